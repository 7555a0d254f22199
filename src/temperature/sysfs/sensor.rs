//! One temperature sensor: its file, its labels and its latest reading.
//!
//! A `Sensor` is shared (`Arc`) by the published [`SensorSet`], the reader
//! thread reading it and the scrape-time collectors. Only the reader writes
//! its [`Reading`]; scrapes only load it.
//!
//! [`SensorSet`]: super::sensor_set::SensorSet

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use super::reading::{parse_millidegrees, ReadError, Reading};

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

/// The longest temperature text accepted: an i64 with sign and newline is
/// 21 bytes; a read that fills the buffer is not a temperature.
pub(super) const READ_BUFFER_LEN: usize = 32;

#[derive(Debug)]
pub struct Sensor {
    pub kind: SensorKind,
    /// The temperature file (`…/thermal_zone0/temp`, `…/hwmon1/temp2_input`).
    pub path: PathBuf,
    /// Label values in the family's label order: `zone, type` for a zone,
    /// `chip, sensor, label` for an hwmon sensor.
    pub labels: Vec<Box<str>>,
    /// Other names a selector may use for the device: an hwmon chip's `name`
    /// file and its `hwmonN` directory. Empty for zones.
    pub aliases: Vec<Box<str>>,
    pub(super) latest: Reading,
    /// A read is queued or in progress; set and cleared under the reader
    /// pool's lock, which orders it (the atomic only makes it shareable).
    pub(super) busy: AtomicBool,
}

impl Sensor {
    pub fn new(kind: SensorKind, path: PathBuf, labels: Vec<Box<str>>, aliases: Vec<Box<str>>) -> Sensor {
        Sensor {
            kind,
            path,
            labels,
            aliases,
            latest: Reading::default(),
            busy: AtomicBool::new(false),
        }
    }

    /// Same file and names: a rescan keeps the older of the two, with its
    /// reading and any read in flight.
    pub fn same_as(&self, other: &Sensor) -> bool {
        (self.kind, &self.path, &self.labels, &self.aliases) == (other.kind, &other.path, &other.labels, &other.aliases)
    }

    /// The latest good value, while fresh as of the judged pass `judged`.
    pub fn celsius(&self, judged: u64) -> Option<f64> {
        self.latest.fresh(judged)
    }

    /// Opens, reads and closes the file, as procfs readers and node_exporter
    /// do: a replaced file is simply read anew, and nothing stays open.
    /// Allocates nothing: std opens paths shorter than 384 bytes through a
    /// stack buffer, and `buf` is the caller's. `pread` at offset 0 because
    /// sysfs regenerates the text for every read there.
    ///
    /// May block for as long as the kernel (or a FIFO) makes open(2) or
    /// pread(2) block; the reader pool keeps that off everyone else's way.
    pub fn read(&self, buf: &mut [u8; READ_BUFFER_LEN]) -> Result<f64, ReadError> {
        let file = File::open(&self.path).map_err(|e| ReadError::from_io(&e))?;
        match file.read_at(buf, 0) {
            Ok(n) if n == buf.len() => Err(ReadError::Garbage),
            Ok(n) => parse_millidegrees(&buf[..n]),
            Err(e) => Err(ReadError::from_io(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temperature::sysfs::test_dir::TestDir;

    fn sensor(path: PathBuf) -> Sensor {
        Sensor::new(
            SensorKind::Thermal,
            path,
            vec!["thermal_zone0".into(), "x".into()],
            vec![],
        )
    }

    #[test]
    fn reads_and_rereads() {
        let dir = TestDir::new("sensor-read");
        let path = dir.write("temp", "45500\n");
        let s = sensor(path.clone());
        let mut buf = [0; READ_BUFFER_LEN];
        assert_eq!(s.read(&mut buf), Ok(45.5));
        std::fs::write(&path, "-1000\n").unwrap();
        assert_eq!(s.read(&mut buf), Ok(-1.0));
        std::fs::write(&path, "oops\n").unwrap();
        assert_eq!(s.read(&mut buf), Err(ReadError::Garbage));
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
    fn reads_a_replaced_file() {
        let dir = TestDir::new("sensor-replaced");
        let path = dir.write("temp", "1000\n");
        let s = sensor(path.clone());
        let mut buf = [0; READ_BUFFER_LEN];
        assert_eq!(s.read(&mut buf), Ok(1.0));
        let other = dir.write("temp.new", "2000\n");
        std::fs::rename(&other, &path).unwrap();
        assert_eq!(s.read(&mut buf), Ok(2.0), "a new inode under the same name");
    }
}
