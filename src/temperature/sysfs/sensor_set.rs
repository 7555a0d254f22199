//! The published list of sensors: every zone, every hwmon sensor, and the
//! ones selected for `cpu_temperature_celsius`.
//!
//! A `SensorSet` is immutable once built. Rescans build a new one, reusing
//! the `Arc<Sensor>` of every sensor still present (so its open handle, its
//! latest value and an outstanding read carry over), and swap it in with a
//! pointer store. Readers (the sampler, scrapes) clone the `Arc` and never
//! wait on a scan or a sensor read.

use std::sync::Arc;

use parking_lot::RwLock;

use super::selection::Selection;
use super::sensor::{FoundSensor, Sensor};

#[derive(Default, Debug)]
pub struct SensorSet {
    pub zones: Vec<Arc<Sensor>>,
    pub hwmon: Vec<Arc<Sensor>>,
    /// The selection's sensors (a subset of the above); empty without a selection.
    pub selected: Vec<Arc<Sensor>>,
}

impl SensorSet {
    /// A set of the sensors `zones` and `hwmon` describe, taking over the
    /// matching sensors of `previous`.
    pub fn rebuild(
        previous: &SensorSet,
        zones: Vec<FoundSensor>,
        hwmon: Vec<FoundSensor>,
        selection: Option<&Selection>,
    ) -> SensorSet {
        let carry = |found: Vec<FoundSensor>, old: &[Arc<Sensor>]| -> Vec<Arc<Sensor>> {
            found
                .into_iter()
                .map(|f| {
                    old.iter()
                        .find(|s| s.describes(&f) && s.handle_matches_path())
                        .cloned()
                        .unwrap_or_else(|| Arc::new(Sensor::new(f)))
                })
                .collect()
        };
        let zones = carry(zones, &previous.zones);
        let hwmon = carry(hwmon, &previous.hwmon);
        let selected = selection.map(|s| s.candidates(&zones, &hwmon)).unwrap_or_default();
        SensorSet { zones, hwmon, selected }
    }

    /// The same sensors under another selection.
    pub fn reselect(&self, selection: &Selection) -> SensorSet {
        SensorSet {
            zones: self.zones.clone(),
            hwmon: self.hwmon.clone(),
            selected: selection.candidates(&self.zones, &self.hwmon),
        }
    }

    /// The hottest readable selected sensor, `None` when none is readable.
    pub fn selected_celsius(&self) -> Option<f64> {
        self.selected
            .iter()
            .filter_map(|s| s.celsius())
            .fold(None, |max, v| Some(max.map_or(v, |m: f64| m.max(v))))
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

    #[test]
    fn rescans_keep_existing_sensors_and_pick_up_changes() {
        let dir = TestDir::new("sensor-set");
        dir.write("thermal_zone0/type", "acpitz\n");
        dir.write("thermal_zone0/temp", "20000\n");
        dir.write("thermal_zone1/type", "x86_pkg_temp\n");
        dir.write("thermal_zone1/temp", "50000\n");
        let sel = Selection::Thermal(ThermalSelector::Cpu);
        let first = SensorSet::rebuild(&SensorSet::default(), scan_zones(dir.path()), vec![], Some(&sel));
        assert_eq!(first.zones.len(), 2);
        assert_eq!(first.selected.len(), 1);
        assert_eq!(first.selected_celsius(), None);
        let mut buf = [0; READ_BUFFER_LEN];
        for z in &first.zones {
            z.read(&mut buf).unwrap();
        }
        assert_eq!(first.selected_celsius(), Some(50.0));

        // Zone 1 goes away, zone 2 arrives, zone 0 is replaced by a new file.
        std::fs::remove_dir_all(dir.path().join("thermal_zone1")).unwrap();
        dir.write("thermal_zone2/type", "cpu-thermal\n");
        dir.write("thermal_zone2/temp", "60000\n");
        let second = SensorSet::rebuild(&first, scan_zones(dir.path()), vec![], Some(&sel));
        assert_eq!(second.zones.len(), 2);
        assert!(Arc::ptr_eq(&first.zones[0], &second.zones[0]), "zone 0 carried over");
        assert_eq!(&*second.zones[1].labels()[0], "thermal_zone2");
        assert_eq!(second.selected_celsius(), None, "zone 2 not read yet");

        let replacement = dir.write("new", "1000\n");
        std::fs::rename(replacement, dir.path().join("thermal_zone0/temp")).unwrap();
        let third = SensorSet::rebuild(&second, scan_zones(dir.path()), vec![], Some(&sel));
        assert!(
            !Arc::ptr_eq(&second.zones[0], &third.zones[0]),
            "replaced file, new sensor"
        );
        assert!(Arc::ptr_eq(&second.zones[1], &third.zones[1]));
    }

    #[test]
    fn selection_picks_the_hottest_readable() {
        let dir = TestDir::new("sensor-set-max");
        dir.write("hwmon0/name", "coretemp\n");
        dir.write("hwmon0/temp1_input", "40000\n");
        dir.write("hwmon0/temp2_input", "-5000\n");
        dir.write("hwmon0/temp3_input", "broken\n");
        let set = SensorSet::rebuild(&SensorSet::default(), vec![], scan_chips(dir.path()), None);
        assert!(set.selected.is_empty());
        let set = set.reselect(&Selection::Hwmon("max".parse().unwrap()));
        assert_eq!(set.selected.len(), 3);
        assert!(set.selected.iter().all(|s| s.kind() == SensorKind::Hwmon));
        let mut buf = [0; READ_BUFFER_LEN];
        set.hwmon[1].read(&mut buf).unwrap();
        assert_eq!(set.selected_celsius(), Some(-5.0));
        set.hwmon[0].read(&mut buf).unwrap();
        assert!(set.hwmon[2].read(&mut buf).is_err());
        assert_eq!(set.selected_celsius(), Some(40.0));
    }

    #[test]
    fn publish_swaps_the_pointer() {
        let published = PublishedSet::default();
        let before = published.get();
        assert!(before.zones.is_empty());
        published.publish(SensorSet {
            zones: vec![],
            hwmon: vec![],
            selected: vec![],
        });
        assert!(!Arc::ptr_eq(&before, &published.get()));
    }
}
