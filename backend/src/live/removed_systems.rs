//! DMSs removed a short while ago, so that a gateway whose token was checked a moment before
//! the removal, or a state change of the DMS still on its way over the bus, cannot bring it
//! back. Only recent removals matter (once the DMS's row is gone, every later token check
//! fails in the database), so entries are forgotten after [`REMEMBERED_FOR`] and the set stays
//! as small as the removals of the last minutes, however long the process runs.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

/// How long a removal is remembered: far beyond a token check's round trip to the database
/// or a bus message's delay, which are the races it closes.
pub(super) const REMEMBERED_FOR: Duration = Duration::from_secs(15 * 60);

/// The DMSs removed in the last [`REMEMBERED_FOR`].
#[derive(Default)]
pub(super) struct RemovedSystems {
    ids: HashSet<String>,
    /// Removals oldest first, to forget them in order.
    order: VecDeque<(Instant, String)>,
}

impl RemovedSystems {
    /// Remembers that `system_id` was removed at `now`, and forgets removals older than
    /// [`REMEMBERED_FOR`].
    pub(super) fn insert(&mut self, system_id: &str, now: Instant) {
        while let Some((at, _)) = self.order.front() {
            if now.saturating_duration_since(*at) < REMEMBERED_FOR {
                break;
            }
            if let Some((_, forgotten)) = self.order.pop_front() {
                self.ids.remove(&forgotten);
            }
        }
        if self.ids.insert(system_id.to_owned()) {
            self.order.push_back((now, system_id.to_owned()));
        }
    }

    /// Whether `system_id` was removed recently.
    pub(super) fn contains(&self, system_id: &str) -> bool {
        self.ids.contains(system_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl RemovedSystems {
        fn len(&self) -> usize {
            self.ids.len()
        }
    }

    #[test]
    fn a_removal_is_remembered_until_it_is_old_then_forgotten() {
        let start = Instant::now();
        let mut removed = RemovedSystems::default();
        removed.insert("a", start);
        removed.insert("b", start + Duration::from_secs(60));
        assert!(removed.contains("a") && removed.contains("b"));

        removed.insert("c", start + REMEMBERED_FOR);

        assert!(!removed.contains("a"), "older than REMEMBERED_FOR");
        assert!(removed.contains("b") && removed.contains("c"));
        assert_eq!(removed.len(), 2);
    }

    #[test]
    fn a_steady_stream_of_removals_keeps_only_the_recent_ones() {
        let start = Instant::now();
        let mut removed = RemovedSystems::default();
        // One removal a second for a day.
        for second in 0..86_400u64 {
            removed.insert(
                &format!("dms-{second}"),
                start + Duration::from_secs(second),
            );
        }
        assert_eq!(removed.len() as u64, REMEMBERED_FOR.as_secs());
        assert!(removed.contains("dms-86399") && !removed.contains("dms-0"));
    }

    #[test]
    fn removing_the_same_dms_twice_keeps_one_entry() {
        let start = Instant::now();
        let mut removed = RemovedSystems::default();
        removed.insert("a", start);
        removed.insert("a", start + Duration::from_secs(1));
        assert_eq!(removed.len(), 1);
        assert_eq!(removed.order.len(), 1);
    }
}
