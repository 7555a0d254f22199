//! Open-loop pacing: request `i` is due at `start + i / rate`, whatever
//! happened to the requests before it.
//!
//! A closed loop (send, wait for the answer, send the next) slows down with
//! the server, so a slow server would show up as a lower request rate and
//! its latency would hide (coordinated omission). Here the due times are
//! fixed up front; each connection, when free, claims the next ticket and
//! sends it at its due time, or at once if that time has passed. A ticket
//! claimed after its due time was late because every connection was busy
//! (or the generator itself fell behind): it is counted, and its latency is
//! measured from the due time, so the wait shows up as latency.
//!
//! The run stops claiming at the end of the duration: tickets still
//! unclaimed then were never sent and are reported as such, which bounds
//! the run to the duration plus one request timeout.

use std::cell::Cell;
use std::time::Duration;

use super::stages::Stage;

/// How late a claim may be and still count as on time: the resolution of
/// tokio's timer, and about what it takes to start the connection tasks.
pub(crate) const ON_TIME_SLACK: Duration = Duration::from_millis(1);

/// The due times of a run.
#[derive(Clone, Debug)]
pub struct Schedule {
    stages: Vec<Stage>,
    /// Per stage: its start, from the run's, and the requests due before it (unrounded).
    starts: Vec<(Duration, f64)>,
    duration: Duration,
    planned: u64,
}

impl Schedule {
    /// `rate` requests per second (> 0, finite) for `duration`: one stage.
    pub fn new(rate: f64, duration: Duration) -> Schedule {
        assert!(rate.is_finite() && rate > 0.0, "rate {rate}");
        Schedule::staged(vec![Stage {
            duration,
            from: rate,
            to: rate,
        }])
    }

    /// Stages one after the other, each with a rate moving linearly from its
    /// `from` to its `to` (rates ≥ 0 and finite, as [`parse_stages`](super::stages::parse_stages) checks).
    pub fn staged(stages: Vec<Stage>) -> Schedule {
        let mut starts = Vec::with_capacity(stages.len());
        let (mut at, mut before) = (Duration::ZERO, 0.0);
        for stage in &stages {
            starts.push((at, before));
            at += stage.duration;
            before += stage.expected();
        }
        Schedule {
            planned: whole(before),
            stages,
            starts,
            duration: at,
        }
    }

    /// How many requests fall due within the duration: request `i` is due
    /// when `i` requests have fallen due by the rate's integral, and counts if
    /// that is before the end.
    pub fn planned(&self) -> u64 {
        self.planned
    }

    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// When request `i` is due, from the start of the run.
    pub fn due(&self, i: u64) -> Duration {
        let k = self.stage_of(i);
        let (start, before) = self.starts[k];
        let stage = &self.stages[k];
        start + Duration::from_secs_f64(stage.time_of((i as f64 - before).max(0.0)))
    }

    /// The stage request `i` falls due in.
    pub fn stage_of(&self, i: u64) -> usize {
        // The last stage whose first request is at or before `i`; stages
        // with no request (rate 0) are skipped over.
        let i = i as f64;
        let first_after = self.starts.partition_point(|&(_, before)| before <= i);
        let mut k = first_after.saturating_sub(1);
        while k > 0 && self.stages[k].expected() == 0.0 {
            k -= 1;
        }
        k
    }

    /// The stage under way `elapsed` after the start (the last one after the end).
    pub fn stage_at(&self, elapsed: Duration) -> usize {
        self.starts
            .partition_point(|&(start, _)| start <= elapsed)
            .saturating_sub(1)
    }

    /// Requests due in stage `k`.
    pub fn planned_in(&self, k: usize) -> u64 {
        let boundary = |k: usize| {
            self.starts
                .get(k)
                .map_or(self.planned, |&(_, before)| whole(before).min(self.planned))
        };
        boundary(k + 1) - boundary(k)
    }
}

/// `ceil(expected)`, except that a value within a rounding error of a whole
/// number is that number: 0.2/s for 8 minutes is 96 requests, although
/// 480 × 0.2 is 96.00000000000001 in floating point.
fn whole(expected: f64) -> u64 {
    let nearest = expected.round();
    if (expected - nearest).abs() <= 1e-9 * nearest.max(1.0) {
        nearest as u64
    } else {
        expected.ceil() as u64
    }
}

/// One claimed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ticket {
    pub index: u64,
    /// Due time, from the start of the run.
    pub due: Duration,
    /// Claimed after its due time (plus [`ON_TIME_SLACK`]): no connection
    /// was free when it fell due.
    pub late: bool,
}

/// Hands the schedule's requests, in order, to whichever connection asks.
///
/// Single-threaded (the generator runs on one thread), hence `Cell`.
#[derive(Debug)]
pub(crate) struct Tickets {
    schedule: Schedule,
    next: Cell<u64>,
    stopped: Cell<bool>,
}

impl Tickets {
    pub(crate) fn new(schedule: Schedule) -> Tickets {
        Tickets {
            schedule,
            next: Cell::new(0),
            stopped: Cell::new(false),
        }
    }

    pub(crate) fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The next request for a connection that is free `elapsed` after the
    /// start; `None` once all are claimed, the duration is over, or the run
    /// was stopped.
    pub(crate) fn claim(&self, elapsed: Duration) -> Option<Ticket> {
        let index = self.next.get();
        if self.stopped.get() || index >= self.schedule.planned || elapsed >= self.schedule.duration {
            return None;
        }
        self.next.set(index + 1);
        let due = self.schedule.due(index);
        Some(Ticket {
            index,
            due,
            late: elapsed > due + ON_TIME_SLACK,
        })
    }

    /// No more claims (SIGINT/SIGTERM): requests in flight finish, the rest are not sent.
    pub(crate) fn stop(&self) {
        self.stopped.set(true);
    }

    pub(crate) fn stopped(&self) -> bool {
        self.stopped.get()
    }

    /// Tickets handed out so far.
    #[cfg(test)]
    pub(crate) fn claimed(&self) -> u64 {
        self.next.get()
    }

    /// Requests of the schedule that were never claimed (so far).
    #[cfg(test)]
    pub(crate) fn unclaimed(&self) -> u64 {
        self.schedule.planned - self.next.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn planned_counts_the_due_times_inside_the_duration() {
        for (rate, duration, want) in [
            (200.0, 2.0, 400),
            (0.2, 480.0, 96),
            (0.2, 300.0, 60),
            (0.2, 4.0, 1),
            (0.2, 5.0, 1),
            (0.2, 5.001, 2),
            (2.0, 1.5, 3),
            (3.0, 1.0, 3),
            (1.0 / 3.0, 9.0, 3),
            (6000.0, 300.0, 1_800_000),
            (1_000_000.0, 86_400.0, 86_400_000_000),
            (10.0, 0.0, 0),
        ] {
            assert_eq!(
                Schedule::new(rate, secs(duration)).planned(),
                want,
                "{rate}/s for {duration}s"
            );
        }
    }

    #[test]
    fn due_times_are_evenly_spaced_from_zero() {
        let s = Schedule::new(4.0, secs(1.0));
        let due: Vec<Duration> = (0..s.planned()).map(|i| s.due(i)).collect();
        assert_eq!(due, [secs(0.0), secs(0.25), secs(0.5), secs(0.75)]);
        let slow = Schedule::new(0.2, secs(60.0));
        assert_eq!(slow.due(3), secs(15.0));
        // Far into a long run the spacing is still exact to the nanosecond.
        let fast = Schedule::new(1_000_000.0, secs(86_400.0));
        assert_eq!(fast.due(86_399_999_999), Duration::new(86_399, 999_999_000));
    }

    #[test]
    fn stages_ramp_hold_and_stop() {
        let stages = crate::loadgen::stages::parse_stages("10s:0-100,10s:100,10s:100-0,5s:0").unwrap();
        let s = Schedule::staged(stages);
        assert_eq!((s.planned(), s.duration()), (2000, secs(35.0)));
        assert_eq!((0..4).map(|k| s.planned_in(k)).collect::<Vec<_>>(), [500, 1000, 500, 0]);
        // Ramp: the rate grows, so the gaps shrink; hold: 10 ms apart.
        assert_eq!(s.due(0), secs(0.0));
        assert!(s.due(1) - s.due(0) > s.due(499) - s.due(498));
        assert_eq!((s.stage_of(499), s.stage_of(500), s.stage_of(1500)), (0, 1, 2));
        assert_eq!(
            (s.stage_at(secs(0.0)), s.stage_at(secs(10.0)), s.stage_at(secs(99.0))),
            (0, 1, 3)
        );
        assert!((s.due(500).as_secs_f64() - 10.0).abs() < 1e-6);
        assert!((s.due(600).as_secs_f64() - 11.0).abs() < 1e-6);
        assert!(s.due(1999) < secs(30.0));
        // Due times never go backwards.
        assert!((1..2000).all(|i| s.due(i) >= s.due(i - 1)));
        // Requests per second of the ramp up, counted by due time: 5, 15, …, 95.
        for second in 0..10 {
            let n = (0..500).filter(|&i| s.due(i).as_secs() == second).count() as f64;
            let want = 5.0 * (2 * second + 1) as f64;
            assert!((n - want).abs() <= 1.0, "second {second}: {n} vs {want}");
        }
    }

    #[test]
    fn claims_follow_the_order_and_mark_late_ones() {
        let t = Tickets::new(Schedule::new(10.0, secs(1.0)));
        // Two connections free at the start claim requests 0 and 1 ahead of time.
        assert_eq!(
            t.claim(secs(0.0)).unwrap(),
            Ticket {
                index: 0,
                due: secs(0.0),
                late: false
            }
        );
        assert_eq!(
            t.claim(secs(0.0001)).unwrap(),
            Ticket {
                index: 1,
                due: secs(0.1),
                late: false
            }
        );
        // A connection freed at 0.35 s claims request 2, due at 0.2 s: late.
        let third = t.claim(secs(0.35)).unwrap();
        assert_eq!((third.index, third.due, third.late), (2, secs(0.2), true));
        // Within the slack is on time.
        assert!(!t.claim(secs(0.3) + ON_TIME_SLACK).unwrap().late);
        assert_eq!(t.claimed(), 4);
        assert_eq!(t.unclaimed(), 6);
    }

    #[test]
    fn claims_stop_at_the_end_of_the_duration() {
        let t = Tickets::new(Schedule::new(10.0, secs(1.0)));
        for _ in 0..3 {
            t.claim(secs(0.0)).unwrap();
        }
        // Connections busy until the end: the rest are never sent.
        assert_eq!(t.claim(secs(1.0)), None);
        assert_eq!((t.claimed(), t.unclaimed()), (3, 7));
    }

    #[test]
    fn claims_stop_when_all_are_handed_out_or_stopped() {
        let t = Tickets::new(Schedule::new(2.0, secs(1.0)));
        assert!(t.claim(secs(0.0)).is_some());
        assert!(t.claim(secs(0.0)).is_some());
        assert_eq!(t.claim(secs(0.6)), None);
        assert_eq!(t.unclaimed(), 0);

        let s = Tickets::new(Schedule::new(2.0, secs(10.0)));
        s.claim(secs(0.0)).unwrap();
        s.stop();
        assert!(s.stopped());
        assert_eq!(s.claim(secs(0.1)), None);
        assert_eq!(s.unclaimed(), 19);
    }
}
