//! One temperature sensor: its file, its labels and its latest good value;
//! and the [`SensorSet`], the list of them that the sampler publishes.
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
use std::sync::Arc;

use super::selection::Selection;
use crate::metrics::AtomicF64;

/// Which sysfs class a sensor belongs to (also the `source` label of
/// `temperature_sensor_read_errors_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SensorKind {
    Thermal,
    Hwmon,
}

impl SensorKind {
    /// Position in the series of `temperature_sensor_read_errors_total`.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Why a sensor produced no value in one read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// open(2) or pread(2) failed (`EAGAIN`, `ENODATA`, `EIO`, `ENOENT`, …); the raw errno.
    Io(i32),
    /// The file was empty (or only whitespace).
    Empty,
    /// The text is not an integer that fits in 64 bits.
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
            ReadError::Garbage => f.write_str("not an integer number of millidegrees"),
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
    /// The latest good value and the pass it came in (0: none): the one place
    /// where value and up/down live, see [`Sensor::celsius`].
    celsius: AtomicF64,
    pass: AtomicU64,
    /// A read is queued or in progress; set and cleared under the sampler's
    /// lock, which orders it (the atomic only makes it shareable).
    pub(super) busy: AtomicBool,
}

impl Sensor {
    pub fn new(kind: SensorKind, path: PathBuf, labels: Vec<Box<str>>, aliases: Vec<Box<str>>) -> Sensor {
        Sensor {
            kind,
            path,
            labels,
            aliases,
            celsius: AtomicF64::new(0.0),
            pass: AtomicU64::new(0),
            busy: AtomicBool::new(false),
        }
    }

    /// Same file and names: a rescan keeps the older of the two, with its
    /// value and any read in flight.
    pub fn same_as(&self, other: &Sensor) -> bool {
        (self.kind, &self.path, &self.labels, &self.aliases) == (other.kind, &other.path, &other.labels, &other.aliases)
    }

    /// The latest good value while it is fresh: from the judged pass `judged`
    /// (one whose reads have all answered or passed their deadline) or a
    /// later one. A failed read clears it at once; a read that never answers
    /// lets it go stale when its pass is judged.
    pub fn celsius(&self, judged: u64) -> Option<f64> {
        let pass = self.pass.load(Ordering::Acquire);
        (pass != 0 && pass >= judged).then(|| self.celsius.get())
    }

    /// Records the outcome of a read finished during pass `pass` (≥ 1).
    pub(super) fn record(&self, result: Result<f64, ReadError>, pass: u64) {
        match result {
            Ok(v) => {
                self.celsius.set(v);
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
            n => parse_millidegrees(&buf[..n]),
        }
    }
}

/// Every zone, every hwmon sensor, the selection and the sensors it picks
/// for `cpu_temperature_celsius`. Immutable once built: rescans build a new
/// one, reusing the `Arc<Sensor>` of every sensor still present (so its
/// value and an outstanding read carry over).
#[derive(Default, Debug)]
pub struct SensorSet {
    pub zones: Vec<Arc<Sensor>>,
    pub hwmon: Vec<Arc<Sensor>>,
    pub selection: Option<Selection>,
    /// The selection's sensors (a subset of the above); empty without a selection.
    pub selected: Vec<Arc<Sensor>>,
}

impl SensorSet {
    /// The sensors a scan found, with those of `self` that are still present
    /// taken over, under the same selection.
    pub fn rescanned(&self, zones: Vec<Sensor>, hwmon: Vec<Sensor>) -> SensorSet {
        let carry = |found: Vec<Sensor>, old: &[Arc<Sensor>]| -> Vec<Arc<Sensor>> {
            let keep = |s: Sensor| {
                old.iter()
                    .find(|o| o.same_as(&s))
                    .cloned()
                    .unwrap_or_else(|| Arc::new(s))
            };
            found.into_iter().map(keep).collect()
        };
        let set = SensorSet {
            zones: carry(zones, &self.zones),
            hwmon: carry(hwmon, &self.hwmon),
            ..SensorSet::default()
        };
        match &self.selection {
            Some(selection) => set.selecting(selection.clone()),
            None => set,
        }
    }

    /// The zones or the hwmon sensors.
    pub fn of(&self, kind: SensorKind) -> &[Arc<Sensor>] {
        match kind {
            SensorKind::Thermal => &self.zones,
            SensorKind::Hwmon => &self.hwmon,
        }
    }

    /// The same sensors under `selection`.
    pub fn selecting(&self, selection: Selection) -> SensorSet {
        SensorSet {
            zones: self.zones.clone(),
            hwmon: self.hwmon.clone(),
            selected: selection.candidates(&self.zones, &self.hwmon),
            selection: Some(selection),
        }
    }

    /// The hottest selected sensor with a fresh value as of the judged pass
    /// `judged`; `None` when none has one.
    pub fn selected_celsius(&self, judged: u64) -> Option<f64> {
        self.selected.iter().filter_map(|s| s.celsius(judged)).reduce(f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temperature::sysfs::scan::{scan_chips, scan_zones};
    use crate::temperature::sysfs::selection::ThermalSelector;
    use crate::temperature::sysfs::test_dir::TestDir;

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
        assert_eq!(r.celsius(0), None, "nothing read yet");
        r.record(Ok(45.5), 3);
        assert_eq!((r.celsius(2), r.celsius(3)), (Some(45.5), Some(45.5)));
        assert_eq!(r.celsius(4), None, "pass 4 judged without a new value: stale");
        r.record(Ok(-1.0), 5);
        assert_eq!(r.celsius(4), Some(-1.0));
        r.record(Err(ReadError::Garbage), 5);
        assert_eq!(r.celsius(4), None, "a failed read is down at once");
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

    /// Reads every listed sensor once, as pass `pass` would.
    fn read_all(sensors: &[Arc<Sensor>], pass: u64) {
        let mut buf = [0; READ_BUFFER_LEN];
        for s in sensors {
            s.record(s.read(&mut buf), pass);
        }
    }

    #[test]
    fn rescans_keep_existing_sensors_and_pick_up_changes() {
        let dir = TestDir::new("sensor-set");
        dir.write("thermal_zone0/type", "acpitz\n");
        dir.write("thermal_zone0/temp", "20000\n");
        dir.write("thermal_zone1/type", "x86_pkg_temp\n");
        dir.write("thermal_zone1/temp", "50000\n");
        let sel = Selection::Thermal(ThermalSelector::Cpu);
        let first = SensorSet::default()
            .selecting(sel)
            .rescanned(scan_zones(dir.path()), vec![]);
        assert_eq!(first.zones.len(), 2);
        assert_eq!(first.selected.len(), 1);
        assert_eq!(first.selected_celsius(0), None);
        read_all(&first.zones, 1);
        assert_eq!(first.selected_celsius(1), Some(50.0));

        // Zone 1 goes away, zone 2 arrives, zone 0 is replaced by a new file.
        std::fs::remove_dir_all(dir.path().join("thermal_zone1")).unwrap();
        dir.write("thermal_zone2/type", "cpu-thermal\n");
        dir.write("thermal_zone2/temp", "60000\n");
        let second = first.rescanned(scan_zones(dir.path()), vec![]);
        assert_eq!(second.zones.len(), 2);
        assert!(Arc::ptr_eq(&first.zones[0], &second.zones[0]), "zone 0 carried over");
        assert_eq!(second.zones[0].celsius(1), Some(20.0), "with its reading");
        assert_eq!(&*second.zones[1].labels[0], "thermal_zone2");
        assert_eq!(second.selected_celsius(1), None, "zone 2 not read yet");

        let replacement = dir.write("new", "1000\n");
        std::fs::rename(replacement, dir.path().join("thermal_zone0/temp")).unwrap();
        let third = second.rescanned(scan_zones(dir.path()), vec![]);
        assert!(Arc::ptr_eq(&second.zones[1], &third.zones[1]));
        read_all(&third.zones, 2);
        assert_eq!(third.zones[0].celsius(2), Some(1.0), "the replaced file is read");
        assert_eq!(third.selected_celsius(2), Some(60.0));
    }

    #[test]
    fn selection_picks_the_hottest_fresh_value() {
        let dir = TestDir::new("sensor-set-max");
        dir.write("hwmon0/name", "coretemp\n");
        dir.write("hwmon0/temp1_input", "40000\n");
        dir.write("hwmon0/temp2_input", "-5000\n");
        dir.write("hwmon0/temp3_input", "broken\n");
        let set = SensorSet::default().rescanned(vec![], scan_chips(dir.path()));
        assert!(set.selected.is_empty());
        let set = set.selecting(Selection::Hwmon("max".parse().unwrap()));
        assert_eq!(set.selected.len(), 3);
        assert!(set.selected.iter().all(|s| s.kind == SensorKind::Hwmon));
        read_all(&set.hwmon[1..2], 1);
        assert_eq!(set.selected_celsius(1), Some(-5.0));
        read_all(&set.hwmon, 2);
        assert_eq!(set.selected_celsius(2), Some(40.0));
        assert_eq!(set.selected_celsius(3), None, "stale once pass 3 is judged");
    }
}
