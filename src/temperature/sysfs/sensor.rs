//! One sampled sysfs file (a temperature, a cooling device's state, a
//! throttle counter, the Raspberry Pi firmware's flags): its path, its
//! labels and its latest good value.
//!
//! A `Sensor` is shared (`Arc`) by the published set, the reader reading it
//! and the scrape-time collectors. Only the reader writes its value; scrapes
//! only load it.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::metrics::AtomicF64;

/// What a sampled file is (also the `source` label of
/// `temperature_sensor_read_errors_total`, see [`ERROR_SOURCES`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SensorKind {
    /// `thermal_zoneN/temp`.
    Thermal,
    /// `hwmonN/tempM_input`.
    Hwmon,
    /// `cooling_deviceN/{cur_state,max_state}`.
    CoolingDevice,
    /// `cpuN/thermal_throttle/{core,package}_throttle_count` (Intel).
    ThrottleCount,
    /// The Raspberry Pi firmware's `get_throttled`.
    Firmware,
}

/// The `source` label values of `temperature_sensor_read_errors_total`:
/// one per [`SensorKind`], in its order, then the trip points (read at scan
/// time, see [`TRIP_ERRORS`]).
pub(super) const ERROR_SOURCES: [&str; 6] = [
    "thermal",
    "hwmon",
    "cooling_device",
    "throttle_count",
    "rpi_firmware",
    "trip_point",
];

/// The series of `temperature_sensor_read_errors_total` that counts trip
/// points dropped as garbage or gone.
pub(super) const TRIP_ERRORS: usize = 5;

impl SensorKind {
    /// Position in the series of `temperature_sensor_read_errors_total`.
    pub fn index(self) -> usize {
        self as usize
    }

    /// How this kind's files are written, unless [`Sensor::parsed_as`] says otherwise.
    fn format(self) -> Format {
        match self {
            SensorKind::Thermal | SensorKind::Hwmon => Format::Millidegrees,
            SensorKind::CoolingDevice => Format::CoolingState,
            SensorKind::ThrottleCount => Format::Count,
            SensorKind::Firmware => Format::Hex,
        }
    }
}

/// The text a sysfs file holds, and the value it stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Signed millidegrees Celsius, exported in degrees.
    Millidegrees,
    /// A decimal state from -1 up: `intel_powerclamp` writes -1 while it
    /// injects no idle time (node_exporter reads it the same way).
    CoolingState,
    /// A decimal count from 0 up (a counter, a `max_state`).
    Count,
    /// Up to 8 hex digits without `0x`: the firmware's `%x` of a 32-bit word.
    Hex,
}

/// Why a sensor produced no value in one read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// open(2) or pread(2) failed (`EAGAIN`, `ENODATA`, `EIO`, `ENOENT`, …); the raw errno.
    Io(i32),
    /// The file was empty (or only whitespace).
    Empty,
    /// The text is not what the file's format allows (not an integer that
    /// fits, a negative count, not hex, ...).
    Garbage,
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> ReadError {
        ReadError::Io(e.raw_os_error().unwrap_or(libc::EIO))
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(errno) => write!(f, "{}", io::Error::from_raw_os_error(*errno)),
            ReadError::Empty => f.write_str("empty file"),
            ReadError::Garbage => f.write_str("not a value this sysfs file can hold"),
        }
    }
}

/// Parses millidegrees (`"45500\n"`, `"-12345"`), the kernel's sysfs ABI for
/// both `thermal_zone*/temp` and `hwmon*/temp*_input`, into degrees Celsius,
/// from a borrowed slice so that a reading allocates nothing.
///
/// Only an optional sign and decimal digits are accepted, after trimming
/// ASCII whitespace: a fraction, an exponent or trailing text is garbage
/// (the ABI never has them, and guessing would hide a broken driver).
pub(super) fn parse_millidegrees(text: &[u8]) -> Result<f64, ReadError> {
    let text = text.trim_ascii();
    if text.is_empty() {
        return Err(ReadError::Empty);
    }
    // `parse` also takes a leading `+`, which the ABI never writes; it
    // checks the i64 range.
    let millis = std::str::from_utf8(text).ok().filter(|s| !s.starts_with('+'));
    let millis: i64 = millis.and_then(|s| s.parse().ok()).ok_or(ReadError::Garbage)?;
    // A division, not a multiplication by 0.001: the quotient is the double
    // nearest the exact decimal (9 → 0.009, where `9.0 * 0.001` gives
    // 0.009000000000000001), the same as node_exporter's thermal_zone collector.
    Ok(millis as f64 / 1000.0)
}

/// Parses a non-temperature file by its format; like [`parse_millidegrees`],
/// only what the kernel writes is accepted, from a borrowed slice.
pub(super) fn parse_value(text: &[u8], format: Format) -> Result<f64, ReadError> {
    let text = text.trim_ascii();
    if text.is_empty() {
        return Err(ReadError::Empty);
    }
    let text = std::str::from_utf8(text).map_err(|_| ReadError::Garbage)?;
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    // Counts and states fit in an i64/u64; the f64 is exact up to 2^53,
    // and node_exporter converts the same way.
    match format {
        Format::Millidegrees => parse_millidegrees(text.as_bytes()),
        Format::CoolingState => match text.strip_prefix('-') {
            Some("1") => Ok(-1.0),
            Some(_) => Err(ReadError::Garbage),
            None if digits(text, 10) => text.parse::<i64>().map(|v| v as f64).map_err(|_| ReadError::Garbage),
            None => Err(ReadError::Garbage),
        },
        Format::Count if digits(text, 10) => text.parse::<u64>().map(|v| v as f64).map_err(|_| ReadError::Garbage),
        Format::Hex if digits(text, 16) && text.len() <= 8 => u32::from_str_radix(text, 16)
            .map(f64::from)
            .map_err(|_| ReadError::Garbage),
        Format::Count | Format::Hex => Err(ReadError::Garbage),
    }
}

/// The longest temperature text accepted: an i64 with sign and newline is
/// 21 bytes; a read that fills the buffer is not a temperature.
pub(super) const READ_BUFFER_LEN: usize = 32;

#[derive(Debug)]
pub struct Sensor {
    pub kind: SensorKind,
    /// How its text reads: the kind's format unless set by [`Sensor::parsed_as`].
    pub format: Format,
    /// The file (`…/thermal_zone0/temp`, `…/hwmon1/temp2_input`,
    /// `…/cooling_device3/cur_state`).
    pub path: PathBuf,
    /// Label values in the family's label order: `zone, type` for a zone,
    /// `chip, sensor, label` for an hwmon sensor, `name, type` for a cooling
    /// device, `core, package` or `package` for a throttle counter.
    pub labels: Vec<Box<str>>,
    /// Other names a selector may use for the device: an hwmon chip's `name`
    /// file and its `hwmonN` directory. Empty for zones.
    pub aliases: Vec<Box<str>>,
    /// The latest good value and the pass it came in (0: none): the one place
    /// where value and up/down live, see [`Sensor::value`].
    value: AtomicF64,
    pass: AtomicU64,
    /// The latest good value is above the one read before it (both good):
    /// a throttle counter that moved in the last interval.
    rose: AtomicBool,
    /// A read is queued or in progress; set and cleared under the sampler's
    /// lock, which orders it (the atomic only makes it shareable).
    pub(super) busy: AtomicBool,
}

impl Sensor {
    pub fn new(kind: SensorKind, path: PathBuf, labels: Vec<Box<str>>, aliases: Vec<Box<str>>) -> Sensor {
        Sensor {
            kind,
            format: kind.format(),
            path,
            labels,
            aliases,
            value: AtomicF64::new(0.0),
            pass: AtomicU64::new(0),
            rose: AtomicBool::new(false),
            busy: AtomicBool::new(false),
        }
    }

    /// The same sensor, its file read as `format`.
    pub fn parsed_as(self, format: Format) -> Sensor {
        Sensor { format, ..self }
    }

    /// Same file and names: a rescan keeps the older of the two, with its
    /// value and any read in flight.
    pub fn same_as(&self, other: &Sensor) -> bool {
        (self.kind, self.format, &self.path, &self.labels, &self.aliases)
            == (other.kind, other.format, &other.path, &other.labels, &other.aliases)
    }

    /// The latest good value while it is fresh: from the judged pass `judged`
    /// (one whose reads have all answered or passed their deadline) or a
    /// later one. A failed read clears it at once; a read that never answers
    /// lets it go stale when its pass is judged.
    pub fn value(&self, judged: u64) -> Option<f64> {
        let pass = self.pass.load(Ordering::Acquire);
        (pass != 0 && pass >= judged).then(|| self.value.get())
    }

    /// The latest good value however old, for judging trip points at scan time.
    pub fn last_value(&self) -> Option<f64> {
        (self.pass.load(Ordering::Acquire) != 0).then(|| self.value.get())
    }

    /// Whether the fresh value (see [`Sensor::value`]) rose over the good
    /// one before it.
    pub fn rose(&self, judged: u64) -> bool {
        self.value(judged).is_some() && self.rose.load(Ordering::Relaxed)
    }

    /// Records the outcome of a read finished during pass `pass` (≥ 1).
    pub(super) fn record(&self, result: Result<f64, ReadError>, pass: u64) {
        match result {
            Ok(v) => {
                let rose = self.last_value().is_some_and(|before| v > before);
                self.rose.store(rose, Ordering::Relaxed);
                self.value.set(v);
                // Release: whoever sees the stamp sees the value.
                self.pass.store(pass, Ordering::Release);
            }
            Err(_) => self.pass.store(0, Ordering::Release),
        }
    }

    /// Opens, reads and closes the file, as procfs readers and node_exporter
    /// do: a replaced file is simply read anew, and nothing stays open.
    /// Allocates nothing: std opens paths shorter than 384 bytes through a
    /// stack buffer, and `buf` is the caller's. `pread` at offset 0 because
    /// sysfs regenerates the text for every read there.
    ///
    /// May block for as long as the kernel (or a FIFO) makes open(2) or
    /// pread(2) block; the sampler's readers keep that off everyone else's way.
    pub fn read(&self, buf: &mut [u8; READ_BUFFER_LEN]) -> Result<f64, ReadError> {
        match File::open(&self.path)?.read_at(buf, 0)? {
            n if n == buf.len() => Err(ReadError::Garbage),
            n => parse_value(&buf[..n], self.format),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake_sysfs::TestDir;

    #[test]
    fn parses_the_sysfs_abi() {
        assert_eq!(parse_millidegrees(b"45500\n"), Ok(45.5));
        assert_eq!(parse_millidegrees(b"-12345\n"), Ok(-12.345));
        assert_eq!(parse_millidegrees(b"0"), Ok(0.0));
        assert_eq!(parse_millidegrees(b"  9 \n"), Ok(0.009));
        assert_eq!(parse_millidegrees(b"33333"), Ok(33.333));
    }

    #[test]
    fn huge_values_keep_their_magnitude() {
        assert_eq!(
            parse_millidegrees(b"9223372036854775807\n"),
            Ok(9_223_372_036_854_775.807)
        );
        assert_eq!(
            parse_millidegrees(b"-9223372036854775808"),
            Ok(-9_223_372_036_854_775.808)
        );
        assert_eq!(parse_millidegrees(b"123456789"), Ok(123_456.789));
    }

    #[test]
    fn rejects_what_the_abi_never_writes() {
        assert_eq!(parse_millidegrees(b""), Err(ReadError::Empty));
        assert_eq!(parse_millidegrees(b" \n"), Err(ReadError::Empty));
        for bad in [
            &b"garbage\n"[..],
            b"-",
            b"+5",
            b"45.5",
            b"1e3",
            b"45500 C",
            b"0x10",
            b"9223372036854775808",
            b"\xff\xfe",
        ] {
            assert_eq!(parse_millidegrees(bad), Err(ReadError::Garbage), "{bad:?}");
        }
    }

    #[test]
    fn a_reading_is_fresh_until_a_later_pass_is_judged_or_a_read_fails() {
        let r = sensor(PathBuf::new());
        assert_eq!(r.value(0), None, "nothing read yet");
        r.record(Ok(45.5), 3);
        assert_eq!((r.value(2), r.value(3)), (Some(45.5), Some(45.5)));
        assert_eq!(r.value(4), None, "pass 4 judged without a new value: stale");
        r.record(Ok(-1.0), 5);
        assert_eq!(r.value(4), Some(-1.0));
        r.record(Err(ReadError::Garbage), 5);
        assert_eq!(r.value(4), None, "a failed read is down at once");
    }

    #[test]
    fn parses_states_counts_and_flags() {
        use Format::*;
        let ok = |text: &[u8], format| parse_value(text, format).unwrap();
        assert_eq!(ok(b"3\n", CoolingState), 3.0);
        assert_eq!(ok(b"-1\n", CoolingState), -1.0, "intel_powerclamp while idle");
        assert_eq!(ok(b"9223372036854775807", CoolingState), 9_223_372_036_854_775_807.0);
        assert_eq!(ok(b"18446744073709551615\n", Count), u64::MAX as f64);
        assert_eq!(ok(b"0\n", Count), 0.0);
        assert_eq!(ok(b"50005\n", Hex), f64::from(0x50005));
        assert_eq!(ok(b"e0008", Hex), f64::from(0xe0008));
        assert_eq!(ok(b"ffffffff", Hex), f64::from(u32::MAX));
        assert_eq!(ok(b"45500", Millidegrees), 45.5);
        assert_eq!(parse_value(b" \n", Count), Err(ReadError::Empty));
        for (bad, format) in [
            (&b"-2"[..], CoolingState),
            (b"-", CoolingState),
            (b"1.5", CoolingState),
            (b"+1", CoolingState),
            (b"99999999999999999999", CoolingState),
            (b"-1", Count),
            (b"18446744073709551616", Count),
            (b"on", Count),
            (b"0x50005", Hex),
            (b"100000000", Hex),
            (b"throttled", Hex),
            (b"-5", Hex),
            (b"\xff", Hex),
        ] {
            assert_eq!(
                parse_value(bad, format),
                Err(ReadError::Garbage),
                "{bad:?} as {format:?}"
            );
        }
    }

    #[test]
    fn a_counter_rises_only_between_two_good_reads() {
        let s = Sensor::new(SensorKind::ThrottleCount, PathBuf::new(), vec![], vec![]);
        s.record(Ok(5.0), 1);
        assert!(!s.rose(1), "nothing before the first value");
        s.record(Ok(7.0), 2);
        assert!(s.rose(2));
        assert!(!s.rose(3), "stale");
        s.record(Ok(7.0), 3);
        assert!(!s.rose(3));
        s.record(Err(ReadError::Garbage), 4);
        s.record(Ok(9.0), 5);
        assert!(!s.rose(5), "the read before failed");
    }

    #[test]
    fn errors_read_as_one_line() {
        assert_eq!(ReadError::Empty.to_string(), "empty file");
        assert!(ReadError::Io(libc::ENODATA).to_string().contains("os error"));
    }

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
