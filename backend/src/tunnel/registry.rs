//! The tunnels this backend holds (one per gateway socket that offered one), each with its
//! limit of concurrent requests, and the remote sessions in use on them, so that a change of
//! rights cuts those at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::mux::{OpenError, OpenRequest, TunnelStream};

/// Why no stream to a DMS's web server could be had here.
#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    /// No socket of this DMS with a tunnel is held by this backend.
    #[error("the DMS's gateway holds no tunnel on this backend")]
    NotHere,
    /// The DMS already has its most requests in flight.
    #[error("the DMS has too many requests in flight")]
    Busy,
    #[error(transparent)]
    Open(#[from] OpenError),
}

/// A stream to the DMS's web server, holding one of its DMS's request slots until dropped.
pub struct Opened {
    pub stream: TunnelStream,
    pub permit: OwnedSemaphorePermit,
}

struct Tunnel {
    connection_id: u64,
    opens: mpsc::Sender<OpenRequest>,
    slots: Arc<Semaphore>,
}

/// One remote session in use (a request, a download, a WebSocket): cancelled when its
/// person loses access.
struct InUse {
    id: u64,
    account_id: String,
    organization_id: String,
    cancel: CancellationToken,
}

#[derive(Default)]
struct Inner {
    tunnels: HashMap<String, Tunnel>,
    in_use: HashMap<String, Vec<InUse>>,
    next_use: u64,
}

/// Shared by the gateway sockets (which register their tunnels) and the remote-access
/// handlers (which open streams).
#[derive(Clone)]
pub struct Tunnels {
    inner: Arc<Mutex<Inner>>,
    max_concurrent_requests: usize,
}

impl Tunnels {
    /// An empty registry; each DMS may have `max_concurrent_requests` requests in flight.
    pub fn new(max_concurrent_requests: usize) -> Self {
        Self {
            inner: Arc::default(),
            max_concurrent_requests: max_concurrent_requests.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that connection `connection_id` of `system_id` offers a tunnel; its socket
    /// reads the requests for new streams from the receiver. A newer connection replaces an
    /// older one's entry.
    pub fn register(&self, system_id: &str, connection_id: u64) -> mpsc::Receiver<OpenRequest> {
        let (opens, requests) = mpsc::channel(self.max_concurrent_requests);
        self.lock().tunnels.insert(
            system_id.to_owned(),
            Tunnel {
                connection_id,
                opens,
                slots: Arc::new(Semaphore::new(self.max_concurrent_requests)),
            },
        );
        requests
    }

    /// Forgets connection `connection_id`'s tunnel (not a newer connection's).
    pub fn unregister(&self, system_id: &str, connection_id: u64) {
        let mut inner = self.lock();
        if inner
            .tunnels
            .get(system_id)
            .is_some_and(|tunnel| tunnel.connection_id == connection_id)
        {
            inner.tunnels.remove(system_id);
        }
    }

    /// Whether this backend holds a tunnel of `system_id`.
    pub fn holds(&self, system_id: &str) -> bool {
        self.lock().tunnels.contains_key(system_id)
    }

    /// Opens a stream to `system_id`'s web server, taking one of its request slots.
    pub async fn open(&self, system_id: &str) -> Result<Opened, TunnelError> {
        let (opens, slots) = {
            let inner = self.lock();
            let tunnel = inner.tunnels.get(system_id).ok_or(TunnelError::NotHere)?;
            (tunnel.opens.clone(), tunnel.slots.clone())
        };
        let permit = slots.try_acquire_owned().map_err(|_| TunnelError::Busy)?;
        let (answer, opened) = oneshot::channel();
        opens.send(answer).await.map_err(|_| TunnelError::NotHere)?;
        let stream = opened.await.map_err(|_| OpenError::Closed)??;
        Ok(Opened { stream, permit })
    }

    /// Marks a remote session of `account_id` on `system_id` in use until the guard drops;
    /// its token is cancelled when that person's access ends.
    pub fn in_use(&self, system_id: &str, organization_id: &str, account_id: &str) -> InUseGuard {
        let cancel = CancellationToken::new();
        let mut inner = self.lock();
        inner.next_use += 1;
        let id = inner.next_use;
        inner
            .in_use
            .entry(system_id.to_owned())
            .or_default()
            .push(InUse {
                id,
                account_id: account_id.to_owned(),
                organization_id: organization_id.to_owned(),
                cancel: cancel.clone(),
            });
        InUseGuard {
            tunnels: self.clone(),
            system_id: system_id.to_owned(),
            id,
            cancel,
        }
    }

    /// Cuts what is in use, now: every session on `system_ids`, and every session of
    /// `accounts` (account, organization) in that organization. Answers how many were cut.
    pub fn cut(&self, system_ids: &[String], accounts: &[(String, String)]) -> usize {
        let inner = self.lock();
        let mut cut = 0;
        for (system_id, uses) in &inner.in_use {
            let whole_system = system_ids.contains(system_id);
            for used in uses {
                let of_account = accounts.iter().any(|(account, organization)| {
                    *account == used.account_id && *organization == used.organization_id
                });
                if whole_system || of_account {
                    used.cancel.cancel();
                    cut += 1;
                }
            }
        }
        cut
    }

    fn release(&self, system_id: &str, id: u64) {
        let mut inner = self.lock();
        if let Some(uses) = inner.in_use.get_mut(system_id) {
            uses.retain(|used| used.id != id);
            if uses.is_empty() {
                inner.in_use.remove(system_id);
            }
        }
    }
}

/// A remote session in use; see [`Tunnels::in_use`].
pub struct InUseGuard {
    tunnels: Tunnels,
    system_id: String,
    id: u64,
    cancel: CancellationToken,
}

impl InUseGuard {
    /// Cancelled when the person's access ends.
    pub fn cancelled(&self) -> CancellationToken {
        self.cancel.clone()
    }
}

impl Drop for InUseGuard {
    fn drop(&mut self) {
        self.tunnels.release(&self.system_id, self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_reach_the_system_or_the_person_named_and_no_one_else() {
        let tunnels = Tunnels::new(4);
        let a = tunnels.in_use("dms-1", "org-1", "ann");
        let b = tunnels.in_use("dms-1", "org-1", "bob");
        let c = tunnels.in_use("dms-2", "org-1", "ann");
        let d = tunnels.in_use("dms-3", "org-2", "ann");
        assert_eq!(
            tunnels.cut(&[], &[("ann".into(), "org-1".into())]),
            2,
            "Ann's sessions in org-1 only"
        );
        assert!(a.cancelled().is_cancelled() && c.cancelled().is_cancelled());
        assert!(!b.cancelled().is_cancelled() && !d.cancelled().is_cancelled());
        assert_eq!(tunnels.cut(&["dms-3".into()], &[]), 1);
        assert!(d.cancelled().is_cancelled() && !b.cancelled().is_cancelled());
        drop((a, b, c, d));
        assert!(tunnels.lock().in_use.is_empty(), "released on drop");
    }

    #[tokio::test]
    async fn a_dms_without_a_tunnel_here_or_out_of_slots_is_refused() {
        let tunnels = Tunnels::new(1);
        assert!(matches!(
            tunnels.open("dms-1").await,
            Err(TunnelError::NotHere)
        ));
        let mut requests = tunnels.register("dms-1", 7);
        // A newer connection's entry survives the older one's unregistering.
        let _newer = tunnels.register("dms-1", 8);
        tunnels.unregister("dms-1", 7);
        assert!(tunnels.holds("dms-1"));
        tunnels.unregister("dms-1", 8);
        assert!(!tunnels.holds("dms-1"));
        assert!(requests.try_recv().is_err());
    }
}
