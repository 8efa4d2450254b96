//! The worker's clock. Production uses the system clock; tests move an
//! offset forward to exercise expiry without sleeping, or pin the clock
//! to one instant so that published bytes are reproducible.

use chrono::{DateTime, Duration, Utc};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Clone, Default)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
    /// When set, `now()` starts from this instant instead of the system
    /// clock (the golden-output test).
    pinned: Option<DateTime<Utc>>,
}

impl Clock {
    /// A clock that always reads `at` (plus any `advance`).
    pub fn pinned(at: DateTime<Utc>) -> Clock {
        Clock {
            offset_secs: Arc::default(),
            pinned: Some(at),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.pinned.unwrap_or_else(Utc::now)
            + Duration::seconds(self.offset_secs.load(Ordering::Relaxed))
    }

    /// Move this clock forward (tests and `RSTUF_CLOCK_OFFSET`).
    pub fn advance(&self, by: Duration) {
        self.offset_secs
            .fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}
