//! Logs what happens to the temperature on stderr, as the seed app did:
//! each change of at least a degree, a source that stops answering, and one
//! that answers again. Rare events, so always on; a thread of its own polls
//! the published value (a load, no sensor read), off the request path.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::TemperatureSource;

/// Smallest change worth a line: sensors flicker by fractions of a degree.
const LOGGED_STEP: f64 = 1.0;

/// The polling thread; stops when dropped.
pub(crate) struct ChangeLog {
    stop: Arc<AtomicBool>,
}

impl ChangeLog {
    /// Polls `source` every `every`, logging changes with `log`.
    pub(crate) fn start(
        source: Arc<dyn TemperatureSource>,
        every: Duration,
        mut log: impl FnMut(&str) + Send + 'static,
    ) -> std::io::Result<ChangeLog> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let mut last = source.celsius();
        std::thread::Builder::new()
            .name("temperature-log".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    std::thread::sleep(every);
                    let now = source.celsius();
                    if let Some(line) = change(last, now, source.name()) {
                        log(&line);
                        last = now;
                    }
                }
            })?;
        Ok(ChangeLog { stop })
    }
}

impl Drop for ChangeLog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The line saying how the reading went from `last` to `now` (`None`:
/// unknown), if that is worth saying.
fn change(last: Option<f64>, now: Option<f64>, source: &str) -> Option<String> {
    match (last, now) {
        (Some(a), Some(b)) if (b - a).abs() >= LOGGED_STEP => Some(format!("temperature ({source}): {a} °C -> {b} °C")),
        (Some(a), None) => Some(format!(
            "temperature ({source}): sensor state: unreadable (last {a} °C)"
        )),
        (None, Some(b)) => Some(format!("temperature ({source}): sensor state: readable, {b} °C")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temperature::{Direction, SimulatedTemperature};

    #[test]
    fn lines_for_changes_only() {
        assert_eq!(change(Some(50.0), Some(50.4), "thermal"), None);
        assert_eq!(
            change(Some(50.0), Some(60.0), "simulated").as_deref(),
            Some("temperature (simulated): 50 °C -> 60 °C")
        );
        assert!(change(Some(50.0), None, "hwmon").unwrap().contains("unreadable"));
        assert!(change(None, Some(41.5), "hwmon").unwrap().contains("readable, 41.5 °C"));
        assert_eq!(change(None, None, "hwmon"), None);
    }

    #[test]
    fn logs_an_adjustment() {
        let source = Arc::new(SimulatedTemperature::new(50.0, 10.0));
        let (tx, rx) = std::sync::mpsc::channel();
        let _log = ChangeLog::start(source.clone(), Duration::from_millis(5), move |l| {
            let _ = tx.send(l.to_string());
        })
        .unwrap();
        source.adjust(Direction::Up).unwrap();
        let line = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(line, "temperature (simulated): 50 °C -> 60 °C");
    }
}
