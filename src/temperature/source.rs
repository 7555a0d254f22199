//! [`TemperatureSource`]: the one abstraction the HTTP side sees of where
//! `cpu_temperature_celsius` comes from, and what moving it may answer.

/// Which way `/cpuTempUp` and `/cpuTempDown` move the temperature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// The source cannot be moved by requests (a real sensor); the text says why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotAdjustable(pub &'static str);

/// A temperature reading, cheap enough to call on every scrape.
pub trait TemperatureSource: Send + Sync {
    /// Short name for logs and docs (`simulated`, `thermal`, `hwmon`).
    fn name(&self) -> &'static str;
    /// The current temperature in degrees Celsius, or `None` while unknown.
    fn celsius(&self) -> Option<f64>;
    /// Moves the temperature one step and returns the new value.
    fn adjust(&self, direction: Direction) -> Result<f64, NotAdjustable>;
}
