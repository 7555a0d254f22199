//! The seed's simulated temperature: a value `/cpuTempUp` and
//! `/cpuTempDown` move by a fixed step, lock-free.

use crate::metrics::AtomicF64;

use super::source::{Direction, NotAdjustable, TemperatureSource};

/// Starts at `start`, moves by `step` per request; lock-free.
pub struct SimulatedTemperature {
    value: AtomicF64,
    step: f64,
}

impl SimulatedTemperature {
    pub fn new(start: f64, step: f64) -> SimulatedTemperature {
        SimulatedTemperature {
            value: AtomicF64::new(start),
            step,
        }
    }
}

impl TemperatureSource for SimulatedTemperature {
    fn name(&self) -> &'static str {
        "simulated"
    }

    fn celsius(&self) -> Option<f64> {
        Some(self.value.get())
    }

    fn adjust(&self, direction: Direction) -> Result<f64, NotAdjustable> {
        Ok(match direction {
            Direction::Up => self.value.add(self.step),
            Direction::Down => self.value.add(-self.step),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_by_step() {
        let t = SimulatedTemperature::new(50.0, 10.0);
        assert_eq!(t.adjust(Direction::Up), Ok(60.0));
        assert_eq!(t.adjust(Direction::Up), Ok(70.0));
        assert_eq!(t.adjust(Direction::Down), Ok(60.0));
        assert_eq!(t.celsius(), Some(60.0));
    }

    #[test]
    fn concurrent_steps_are_not_lost() {
        let t = std::sync::Arc::new(SimulatedTemperature::new(0.0, 0.5));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        t.adjust(Direction::Up).unwrap();
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(t.celsius(), Some(2000.0));
    }
}
