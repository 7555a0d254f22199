//! The published list of sensors: every zone, every hwmon sensor, the
//! selection and the sensors it picks for `cpu_temperature_celsius`.
//!
//! A `SensorSet` is immutable once built. Rescans build a new one, reusing
//! the `Arc<Sensor>` of every sensor still present (so its reading and an
//! outstanding read carry over), and swap it in with a pointer store.
//! Readers (the sampler, scrapes) clone the `Arc` and never wait on a scan
//! or a sensor read.

use std::sync::Arc;

use parking_lot::RwLock;

use super::selection::Selection;
use super::sensor::Sensor;

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

/// The current [`SensorSet`], shared by the scanner (writer), the sampler
/// and the collectors (readers).
#[derive(Default)]
pub struct PublishedSet {
    current: RwLock<Arc<SensorSet>>,
}

impl PublishedSet {
    /// The current set. The lock is held for one `Arc` clone: a scrape waits
    /// at most for another pointer copy, never for I/O.
    pub fn get(&self) -> Arc<SensorSet> {
        self.current.read().clone()
    }

    pub fn publish(&self, set: SensorSet) {
        let set = Arc::new(set);
        // The old set is dropped after the lock is released.
        let _old = std::mem::replace(&mut *self.current.write(), set);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temperature::sysfs::sensor::{SensorKind, READ_BUFFER_LEN};
    use crate::temperature::sysfs::test_dir::TestDir;
    use crate::temperature::sysfs::{hwmon::scan_chips, selection::ThermalSelector, thermal::scan_zones};

    /// Reads every listed sensor once, as pass `pass` would.
    fn read_all(sensors: &[Arc<Sensor>], pass: u64) {
        let mut buf = [0; READ_BUFFER_LEN];
        for s in sensors {
            s.latest.record(s.read(&mut buf), pass);
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

    #[test]
    fn publish_swaps_the_pointer() {
        let published = PublishedSet::default();
        let before = published.get();
        assert!(before.zones.is_empty());
        published.publish(SensorSet::default());
        assert!(!Arc::ptr_eq(&before, &published.get()));
    }
}
