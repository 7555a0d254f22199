//! One temperature sensor: where its file is, what it is called, its open
//! handle and its latest reading.
//!
//! A `Sensor` is shared (`Arc`) between the published [`SensorSet`], the
//! reader thread that reads it and the scrape-time collectors. Only the
//! reader touches the file; scrapes only load the atomics.
//!
//! [`SensorSet`]: super::sensor_set::SensorSet

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;

use super::reader_pool::JobSlot;
use super::reading::{parse_millidegrees, ReadError};
use crate::metrics::AtomicF64;

/// Which sysfs class a sensor belongs to (also the `source` label of
/// `temperature_sensor_read_errors_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SensorKind {
    Thermal,
    Hwmon,
}

impl SensorKind {
    pub const ALL: [SensorKind; 2] = [SensorKind::Thermal, SensorKind::Hwmon];

    pub fn label(self) -> &'static str {
        match self {
            SensorKind::Thermal => "thermal",
            SensorKind::Hwmon => "hwmon",
        }
    }

    /// Position in [`SensorKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What a scan found: a sensor's file and names, before it is shared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundSensor {
    pub kind: SensorKind,
    /// The temperature file (`…/thermal_zone0/temp`, `…/hwmon1/temp2_input`).
    pub path: PathBuf,
    /// Label values in the family's label order: `zone, type` for a zone,
    /// `chip, sensor, label` for an hwmon sensor.
    pub labels: Vec<String>,
    /// Other names a selector may use for the device: an hwmon chip's `name`
    /// file and its `hwmonN` directory. Empty for zones.
    pub aliases: Vec<String>,
}

/// The longest temperature text accepted: an i64 with sign and newline is
/// 21 bytes; a read that fills the buffer is not a temperature.
pub const READ_BUFFER_LEN: usize = 32;

/// A sensor with its open file and latest reading.
pub struct Sensor {
    kind: SensorKind,
    path: PathBuf,
    labels: Box<[Box<str>]>,
    aliases: Box<[Box<str>]>,
    /// Kept open between passes so a read is one pread(2) from offset 0
    /// (sysfs regenerates the text for every read at offset 0). Dropped after
    /// an I/O error and reopened on the next read.
    file: Mutex<Option<File>>,
    /// `(st_dev, st_ino)` of the file when it was opened, `(0, 0)` before:
    /// a rescan compares it with the path's, so a file replaced under the
    /// same name (a fake tree rewritten by a test) gets a fresh `Sensor`.
    opened_dev: AtomicU64,
    opened_ino: AtomicU64,
    /// Latest good value in °C, kept while the sensor is down.
    celsius: AtomicF64,
    /// Whether the latest read (or the latest deadline) gave a good value.
    up: AtomicBool,
    /// The reader pool's bookkeeping for this sensor's read.
    pub(super) job: JobSlot,
}

impl Sensor {
    pub fn new(found: FoundSensor) -> Sensor {
        Sensor {
            kind: found.kind,
            path: found.path,
            labels: found.labels.into_iter().map(String::into_boxed_str).collect(),
            aliases: found.aliases.into_iter().map(String::into_boxed_str).collect(),
            file: Mutex::new(None),
            opened_dev: AtomicU64::new(0),
            opened_ino: AtomicU64::new(0),
            celsius: AtomicF64::new(0.0),
            up: AtomicBool::new(false),
            job: JobSlot::default(),
        }
    }

    pub fn kind(&self) -> SensorKind {
        self.kind
    }

    /// Label values, in the family's label order.
    pub fn labels(&self) -> &[Box<str>] {
        &self.labels
    }

    pub fn aliases(&self) -> &[Box<str>] {
        &self.aliases
    }

    /// Whether this sensor is the one `found` describes (same file, same names).
    pub fn describes(&self, found: &FoundSensor) -> bool {
        self.kind == found.kind
            && self.path == found.path
            && self
                .labels
                .iter()
                .map(|l| &**l)
                .eq(found.labels.iter().map(String::as_str))
            && self
                .aliases
                .iter()
                .map(|l| &**l)
                .eq(found.aliases.iter().map(String::as_str))
    }

    /// False when the open handle no longer refers to the file at `path`
    /// (the file was replaced); true when nothing is open yet or the path is
    /// gone (a read then fails and says so).
    pub fn handle_matches_path(&self) -> bool {
        let dev = self.opened_dev.load(Ordering::Relaxed);
        let ino = self.opened_ino.load(Ordering::Relaxed);
        if (dev, ino) == (0, 0) {
            return true;
        }
        match std::fs::metadata(&self.path) {
            Ok(m) => (m.dev(), m.ino()) == (dev, ino),
            Err(_) => true,
        }
    }

    /// Latest good value, while the sensor is up.
    pub fn celsius(&self) -> Option<f64> {
        if self.up.load(Ordering::Acquire) {
            Some(self.celsius.get())
        } else {
            None
        }
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Reads the file once and records the outcome. Allocates nothing: the
    /// path is pre-built (std opens short paths through a stack buffer), the
    /// buffer is the caller's, and the handle is reused.
    ///
    /// May block for as long as the kernel (or a FIFO) makes open(2) or
    /// pread(2) block; the reader pool keeps that off everyone else's way.
    pub fn read(&self, buf: &mut [u8; READ_BUFFER_LEN]) -> Result<f64, ReadError> {
        let result = self.read_file(buf);
        match result {
            Ok(v) => {
                self.celsius.set(v);
                self.up.store(true, Ordering::Release);
            }
            Err(_) => self.mark_down(),
        }
        result
    }

    /// Records that no good value came in time; the last good one is kept.
    pub fn mark_down(&self) {
        self.up.store(false, Ordering::Release);
    }

    fn read_file(&self, buf: &mut [u8; READ_BUFFER_LEN]) -> Result<f64, ReadError> {
        let mut file = self.file.lock();
        if file.is_none() {
            let f = File::open(&self.path).map_err(|e| ReadError::from_io(&e))?;
            if let Ok(m) = f.metadata() {
                self.opened_dev.store(m.dev(), Ordering::Relaxed);
                self.opened_ino.store(m.ino(), Ordering::Relaxed);
            }
            *file = Some(f);
        }
        let f = file.as_ref().expect("opened above");
        match f.read_at(buf, 0) {
            Ok(n) if n == buf.len() => Err(ReadError::Garbage),
            Ok(n) => parse_millidegrees(&buf[..n]),
            Err(e) => {
                // The handle may be dead (ENODEV after the device went away,
                // ESPIPE on something that is not a regular file): reopen next time.
                *file = None;
                Err(ReadError::from_io(&e))
            }
        }
    }
}

impl std::fmt::Debug for Sensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sensor")
            .field("kind", &self.kind)
            .field("path", &self.path)
            .field("labels", &self.labels)
            .field("up", &self.is_up())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temperature::sysfs::test_dir::TestDir;

    fn sensor(path: PathBuf) -> Sensor {
        Sensor::new(FoundSensor {
            kind: SensorKind::Thermal,
            path,
            labels: vec!["thermal_zone0".into(), "x".into()],
            aliases: vec![],
        })
    }

    #[test]
    fn reads_rereads_and_keeps_the_last_good_value() {
        let dir = TestDir::new("sensor-read");
        let path = dir.write("temp", "45500\n");
        let s = sensor(path.clone());
        let mut buf = [0; READ_BUFFER_LEN];
        assert_eq!(s.celsius(), None);
        assert_eq!(s.read(&mut buf), Ok(45.5));
        assert_eq!(s.celsius(), Some(45.5));
        // Rewritten in place: the kept handle sees the new text.
        std::fs::write(&path, "-1000\n").unwrap();
        assert_eq!(s.read(&mut buf), Ok(-1.0));
        std::fs::write(&path, "oops\n").unwrap();
        assert_eq!(s.read(&mut buf), Err(ReadError::Garbage));
        assert_eq!(s.celsius(), None);
        std::fs::write(&path, "").unwrap();
        assert_eq!(s.read(&mut buf), Err(ReadError::Empty));
        std::fs::write(&path, "7\n").unwrap();
        assert_eq!(s.read(&mut buf), Ok(0.007));
    }

    #[test]
    fn missing_file_and_overlong_text_are_errors() {
        let dir = TestDir::new("sensor-errors");
        let s = sensor(dir.path().join("absent"));
        let mut buf = [0; READ_BUFFER_LEN];
        assert_eq!(s.read(&mut buf), Err(ReadError::Io(libc::ENOENT)));
        let long = sensor(dir.write("long", &"1".repeat(READ_BUFFER_LEN)));
        assert_eq!(long.read(&mut buf), Err(ReadError::Garbage));
    }

    #[test]
    fn notices_a_replaced_file() {
        let dir = TestDir::new("sensor-replaced");
        let path = dir.write("temp", "1000\n");
        let s = sensor(path.clone());
        assert!(s.handle_matches_path());
        s.read(&mut [0; READ_BUFFER_LEN]).unwrap();
        assert!(s.handle_matches_path());
        let other = dir.write("temp.new", "2000\n");
        std::fs::rename(&other, &path).unwrap();
        assert!(!s.handle_matches_path());
    }
}
