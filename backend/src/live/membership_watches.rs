//! Per-person signals that "your organizations changed", so that a change of one person wakes
//! only that person's streams. One channel shared by every stream made each stream look at
//! every change on the server, and a burst of them (a loop creating organizations) overflowed
//! it: every stream then had to assume the worst and re-read its snapshot.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

/// After this many new watches, forget the people no stream watches any more, so the map
/// holds only people with a stream open (and at most this many more).
const SWEEP_EVERY: usize = 1024;

/// The watches of everyone with a live stream open on this backend.
#[derive(Default)]
pub struct MembershipWatches {
    inner: Mutex<Watches>,
}

#[derive(Default)]
struct Watches {
    by_person: HashMap<String, watch::Sender<u64>>,
    made_since_sweep: usize,
}

impl MembershipWatches {
    /// A receiver that changes whenever [`MembershipWatches::changed`] is called for
    /// `user_id` (after this call).
    pub fn watch(&self, user_id: &str) -> watch::Receiver<u64> {
        let mut watches = self.lock();
        watches.made_since_sweep += 1;
        if watches.made_since_sweep >= SWEEP_EVERY {
            watches.made_since_sweep = 0;
            watches
                .by_person
                .retain(|_, sender| sender.receiver_count() > 0);
        }
        match watches.by_person.get(user_id) {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = watch::channel(0);
                watches.by_person.insert(user_id.to_owned(), sender);
                receiver
            }
        }
    }

    /// Tells the streams of `user_id` that their organizations changed.
    pub fn changed(&self, user_id: &str) {
        let mut watches = self.lock();
        if let Some(sender) = watches.by_person.get(user_id) {
            if sender.receiver_count() == 0 {
                watches.by_person.remove(user_id);
            } else {
                sender.send_modify(|version| *version += 1);
            }
        }
    }

    /// How many people are watched (streams open, plus at most [`SWEEP_EVERY`] gone).
    pub fn len(&self) -> usize {
        self.lock().by_person.len()
    }

    /// Whether nobody is watched.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Watches> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_change_wakes_only_the_streams_of_that_person() {
        let watches = MembershipWatches::default();
        let mut ann = watches.watch("ann");
        let mut ann_again = watches.watch("ann");
        let mut bob = watches.watch("bob");
        for _ in 0..10_000 {
            watches.changed("ann");
        }
        assert!(ann.has_changed().unwrap());
        assert!(ann_again.has_changed().unwrap());
        assert!(!bob.has_changed().unwrap(), "bob's streams sleep on");
        ann.borrow_and_update();
        assert!(!ann.has_changed().unwrap(), "a burst is one wake-up");
        watches.changed("bob");
        assert!(bob.changed().await.is_ok());
        let _ = ann_again.borrow_and_update();
    }

    #[test]
    fn people_without_streams_are_forgotten() {
        let watches = MembershipWatches::default();
        for index in 0..(3 * SWEEP_EVERY) {
            drop(watches.watch(&format!("person-{index}")));
        }
        assert!(watches.len() <= SWEEP_EVERY, "{}", watches.len());
        let kept = watches.watch("kept");
        for index in 0..SWEEP_EVERY {
            drop(watches.watch(&format!("other-{index}")));
        }
        watches.changed("kept");
        assert!(kept.has_changed().unwrap());
        watches.changed("nobody");
        assert!(!watches.is_empty());
    }
}
