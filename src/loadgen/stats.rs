//! What a run counts: one [`Outcome`] per request sent or attempted, summed
//! into [`Stats`] (one instance, on the generator's one thread).

use std::collections::BTreeMap;
use std::time::Duration;

use super::client::ErrorKind;
use super::histogram::Histogram;

/// The fate of one scheduled request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Outcome {
    /// Claimed after its due time: no connection was free.
    pub late: bool,
    /// All of its bytes were written to a socket.
    pub written: bool,
    /// The response's status, or why there was none.
    pub result: Result<u16, ErrorKind>,
    /// From the due time (late requests) or the moment it was sent, to the
    /// end of the response.
    pub latency: Duration,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Stats {
    /// Requests written to a socket.
    pub sent: u64,
    /// Requests with a complete response, whatever its status.
    pub completed: u64,
    /// Requests sent after their due time because every connection was busy.
    pub late: u64,
    pub errors: BTreeMap<ErrorKind, u64>,
    pub statuses: BTreeMap<u16, u64>,
    /// Latency of the completed requests.
    pub latency: Histogram,
}

impl Stats {
    pub(crate) fn record(&mut self, o: &Outcome) {
        self.late += u64::from(o.late);
        self.sent += u64::from(o.written);
        match o.result {
            Ok(status) => {
                self.completed += 1;
                *self.statuses.entry(status).or_default() += 1;
                self.latency.record(o.latency);
            }
            Err(kind) => *self.errors.entry(kind).or_default() += 1,
        }
    }

    /// Requests without a complete response.
    pub(crate) fn errors(&self) -> u64 {
        self.errors.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_outcome_once() {
        let mut s = Stats::default();
        let ms = Duration::from_millis;
        for o in [
            Outcome {
                late: false,
                written: true,
                result: Ok(200),
                latency: ms(1),
            },
            Outcome {
                late: true,
                written: true,
                result: Ok(200),
                latency: ms(3),
            },
            Outcome {
                late: false,
                written: true,
                result: Ok(503),
                latency: ms(2),
            },
            Outcome {
                late: false,
                written: false,
                result: Err(ErrorKind::Connect),
                latency: ms(0),
            },
            Outcome {
                late: false,
                written: true,
                result: Err(ErrorKind::Timeout),
                latency: ms(10),
            },
        ] {
            s.record(&o);
        }
        assert_eq!((s.sent, s.completed, s.late, s.errors()), (4, 3, 1, 2));
        assert_eq!(s.statuses.into_iter().collect::<Vec<_>>(), [(200, 2), (503, 1)]);
        assert_eq!(s.errors[&ErrorKind::Connect], 1);
        assert_eq!(s.latency.count(), 3);
        assert_eq!(s.latency.max(), ms(3));
    }
}
