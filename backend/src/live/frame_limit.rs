//! How fast one gateway's socket reads control frames (see [`FrameLimit`]).

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// How fast a gateway's socket reads control frames: text frames, pings and pongs (tunnel data
/// has its own flow control in yamux). A frame beyond the limit is not refused: the socket
/// stops reading until the limit allows it, so the gateway's sends back up into TCP and a
/// flood costs the server no more than a well-behaved gateway at this pace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimit {
    quota: Quota,
}

impl FrameLimit {
    /// `per_second` frames a second on average, twice as many in a row; `None` for 0.
    pub fn per_second(per_second: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_second)?;
        let burst = rate.saturating_mul(NonZeroU32::MIN.saturating_add(1));
        Some(Self {
            quota: Quota::per_second(rate).allow_burst(burst),
        })
    }

    pub(super) fn limiter(self) -> DefaultDirectRateLimiter {
        RateLimiter::direct(self.quota)
    }
}
