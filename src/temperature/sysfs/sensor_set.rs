//! The [`SensorSet`]: every sampled file a scan found, the trip points that
//! passed judgement, the selection and what it picks. Immutable once built:
//! rescans build a new one, reusing the `Arc<Sensor>` of every file still
//! present (so its value and an outstanding read carry over), and the
//! sampler publishes it behind one pointer.

use std::sync::Arc;

use super::scan::Scan;
use super::selection::Selection;
use super::sensor::{Sensor, SensorKind};
use super::trips::{headroom_trip, judge, Trip, TripFault};

#[derive(Clone, Default, Debug)]
pub struct SensorSet {
    pub zones: Vec<Arc<Sensor>>,
    pub hwmon: Vec<Arc<Sensor>>,
    /// Cooling devices' `cur_state` and `max_state`, labelled `name, type`.
    pub cooling_cur: Vec<Arc<Sensor>>,
    pub cooling_max: Vec<Arc<Sensor>>,
    /// Intel throttle counters, one per core and one per package.
    pub core_throttles: Vec<Arc<Sensor>>,
    pub package_throttles: Vec<Arc<Sensor>>,
    /// The Raspberry Pi firmware's `get_throttled`: none or one.
    pub firmware: Vec<Arc<Sensor>>,
    /// The `rpi_volt` chip's under-voltage alarm: none or one.
    pub undervoltage: Vec<Arc<Sensor>>,
    /// The zones' trip points that passed judgement, by zone then index.
    pub trips: Vec<Trip>,
    /// The trip points dropped by the scan that built this set: the next
    /// scan reports only faults not already here.
    pub trip_faults: Vec<TripFault>,
    /// Each zone's lowest reading seen at a scan, the closest thing to its
    /// idle reading: what "below idle" is measured against (see [`judge`]).
    /// A board that starts above its passive trip gets that trip back once
    /// it has cooled below it.
    idle: Vec<(Box<str>, f64)>,
    pub selection: Option<Selection>,
    /// The selection's sensors (zones or hwmon sensors); empty without a selection.
    pub selected: Vec<Arc<Sensor>>,
    /// For each selected sensor, the temperature of the trip its headroom
    /// is measured against (see [`headroom_trip`]); `None` for hwmon sensors
    /// and zones without one.
    pub selected_trips: Vec<Option<f64>>,
}

impl SensorSet {
    /// What `scan` found, with the sensors of `self` that are still present
    /// taken over, under the same selection; and the trip faults that are
    /// new since `self` (to log and count once).
    pub(super) fn rescanned(&self, scan: Scan) -> (SensorSet, Vec<TripFault>) {
        let carry = |found: Vec<Sensor>, old: &[Arc<Sensor>]| -> Vec<Arc<Sensor>> {
            let keep = |s: Sensor| {
                old.iter()
                    .find(|o| o.same_as(&s))
                    .cloned()
                    .unwrap_or_else(|| Arc::new(s))
            };
            found.into_iter().map(keep).collect()
        };
        let zones = carry(scan.zones, &self.zones);
        let idle: Vec<(Box<str>, f64)> = zones
            .iter()
            .filter_map(|zone| {
                let name = &zone.labels[0];
                let known = self.idle.iter().find(|(n, _)| n == name).map(|&(_, v)| v);
                let lowest = match (known, zone.last_value()) {
                    (Some(known), Some(now)) => known.min(now),
                    (known, now) => known.or(now)?,
                };
                Some((name.clone(), lowest))
            })
            .collect();
        let idle_of = |zone: &str| idle.iter().find(|(n, _)| &**n == zone).map(|&(_, v)| v);
        let (mut trips, mut faults) = (Vec::new(), Vec::new());
        // A zone never read yet waits for the next scan: judged without an
        // idle reading, an unset threshold at 0 °C would pass.
        for listing in &scan.trips {
            let Some(idle) = idle_of(&listing.zone) else {
                continue;
            };
            match judge(listing, Some(idle)) {
                Ok(trip) => trips.push(trip),
                Err(fault) => faults.push(fault),
            }
        }
        // A trip of a zone still present that is no longer listed at all.
        for old in &self.trips {
            let zone_present = zones.iter().any(|z| z.labels[0] == old.zone);
            let listed = scan.trips.iter().any(|l| l.zone == old.zone && l.index == old.index);
            if zone_present && !listed {
                faults.push(TripFault {
                    zone: old.zone.clone(),
                    index: old.index,
                    reason: "its files are gone since the previous scan".into(),
                });
            }
        }
        let new_faults = faults
            .iter()
            .filter(|f| !self.trip_faults.contains(f))
            .cloned()
            .collect();
        let set = SensorSet {
            zones,
            hwmon: carry(scan.hwmon, &self.hwmon),
            cooling_cur: carry(scan.cooling_cur, &self.cooling_cur),
            cooling_max: carry(scan.cooling_max, &self.cooling_max),
            core_throttles: carry(scan.core_throttles, &self.core_throttles),
            package_throttles: carry(scan.package_throttles, &self.package_throttles),
            firmware: carry(scan.firmware, &self.firmware),
            undervoltage: carry(scan.undervoltage, &self.undervoltage),
            trips,
            trip_faults: faults,
            idle,
            ..SensorSet::default()
        };
        let set = match &self.selection {
            Some(selection) => set.selecting(selection.clone()),
            None => set,
        };
        (set, new_faults)
    }

    /// Every sampled file, in one order.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Sensor>> {
        self.zones
            .iter()
            .chain(&self.hwmon)
            .chain(&self.cooling_cur)
            .chain(&self.cooling_max)
            .chain(&self.core_throttles)
            .chain(&self.package_throttles)
            .chain(&self.firmware)
            .chain(&self.undervoltage)
    }

    /// How many files [`SensorSet::all`] lists.
    pub fn file_count(&self) -> usize {
        [
            &self.zones,
            &self.hwmon,
            &self.cooling_cur,
            &self.cooling_max,
            &self.core_throttles,
            &self.package_throttles,
            &self.firmware,
            &self.undervoltage,
        ]
        .iter()
        .map(|list| list.len())
        .sum()
    }

    /// The temperature sensors of `kind`: the zones or the hwmon sensors
    /// (empty for the other kinds, which have lists of their own).
    pub fn of(&self, kind: SensorKind) -> &[Arc<Sensor>] {
        match kind {
            SensorKind::Thermal => &self.zones,
            SensorKind::Hwmon => &self.hwmon,
            SensorKind::CoolingDevice | SensorKind::ThrottleCount | SensorKind::Firmware => &[],
        }
    }

    /// The same files under `selection`.
    pub fn selecting(&self, selection: Selection) -> SensorSet {
        let selected = selection.candidates(&self.zones, &self.hwmon);
        let selected_trips = selected
            .iter()
            .map(|s| {
                let zone = (s.kind == SensorKind::Thermal).then(|| &*s.labels[0]);
                zone.and_then(|zone| headroom_trip(&self.trips, zone))
                    .map(|t| t.celsius)
            })
            .collect();
        SensorSet {
            selected,
            selected_trips,
            selection: Some(selection),
            ..self.clone()
        }
    }

    /// The hottest selected sensor with a fresh value as of the judged pass
    /// `judged`; `None` when none has one.
    pub fn selected_celsius(&self, judged: u64) -> Option<f64> {
        self.selected.iter().filter_map(|s| s.value(judged)).reduce(f64::max)
    }

    /// The highest ratio of a selected zone's fresh temperature to its
    /// headroom trip; `None` when no selected zone has both.
    pub fn trip_ratio(&self, judged: u64) -> Option<f64> {
        self.selected
            .iter()
            .zip(&self.selected_trips)
            .filter_map(|(s, trip)| Some(s.value(judged)? / (*trip)?))
            .reduce(f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temperature::sysfs::scan::{scan_chips, scan_zones};
    use crate::temperature::sysfs::selection::ThermalSelector;
    use crate::temperature::sysfs::sensor::READ_BUFFER_LEN;
    use crate::temperature::sysfs::trips::list_trips;
    use fake_sysfs::TestDir;
    use std::path::Path;

    /// The zones under `root` and their trip points, as a scan lists them.
    fn zones(root: &Path) -> Scan {
        let zones = scan_zones(root);
        let trips = zones
            .iter()
            .flat_map(|z| list_trips(z.path.parent().unwrap(), &z.labels[0]))
            .collect();
        Scan {
            zones,
            trips,
            ..Scan::default()
        }
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
        let first = SensorSet::default().selecting(sel).rescanned(zones(dir.path())).0;
        assert_eq!(first.zones.len(), 2);
        assert_eq!(first.selected.len(), 1);
        assert_eq!(first.selected_celsius(0), None);
        read_all(&first.zones, 1);
        assert_eq!(first.selected_celsius(1), Some(50.0));

        // Zone 1 goes away, zone 2 arrives, zone 0 is replaced by a new file.
        std::fs::remove_dir_all(dir.path().join("thermal_zone1")).unwrap();
        dir.write("thermal_zone2/type", "cpu-thermal\n");
        dir.write("thermal_zone2/temp", "60000\n");
        let second = first.rescanned(zones(dir.path())).0;
        assert_eq!(second.zones.len(), 2);
        assert!(Arc::ptr_eq(&first.zones[0], &second.zones[0]), "zone 0 carried over");
        assert_eq!(second.zones[0].value(1), Some(20.0), "with its reading");
        assert_eq!(&*second.zones[1].labels[0], "thermal_zone2");
        assert_eq!(second.selected_celsius(1), None, "zone 2 not read yet");

        let replacement = dir.write("new", "1000\n");
        std::fs::rename(replacement, dir.path().join("thermal_zone0/temp")).unwrap();
        let third = second.rescanned(zones(dir.path())).0;
        assert!(Arc::ptr_eq(&second.zones[1], &third.zones[1]));
        read_all(&third.zones, 2);
        assert_eq!(third.zones[0].value(2), Some(1.0), "the replaced file is read");
        assert_eq!(third.selected_celsius(2), Some(60.0));
    }

    #[test]
    fn selection_picks_the_hottest_fresh_value() {
        let dir = TestDir::new("sensor-set-max");
        dir.write("hwmon0/name", "coretemp\n");
        dir.write("hwmon0/temp1_input", "40000\n");
        dir.write("hwmon0/temp2_input", "-5000\n");
        dir.write("hwmon0/temp3_input", "broken\n");
        let set = SensorSet::default()
            .rescanned(Scan {
                hwmon: scan_chips(dir.path()),
                ..Scan::default()
            })
            .0;
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
    fn trips_are_judged_against_the_idle_reading_and_faults_reported_once() {
        let dir = TestDir::new("sensor-set-trips");
        dir.write("thermal_zone0/type", "x86_pkg_temp\n");
        dir.write("thermal_zone0/temp", "45000\n");
        dir.write("thermal_zone0/trip_point_0_temp", "0\n");
        dir.write("thermal_zone0/trip_point_0_type", "passive\n");
        dir.write("thermal_zone1/type", "cpu-thermal\n");
        dir.write("thermal_zone1/temp", "60000\n");
        dir.write("thermal_zone1/trip_point_0_temp", "90000\n");
        dir.write("thermal_zone1/trip_point_0_type", "critical\n");
        dir.write("thermal_zone1/trip_point_1_temp", "75000\n");
        dir.write("thermal_zone1/trip_point_1_type", "passive\n");
        dir.write("thermal_zone1/trip_point_2_temp", "80000\n");
        dir.write("thermal_zone1/trip_point_2_type", "bogus\n");
        let sel = Selection::Thermal(ThermalSelector::Max);
        let (first, faults) = SensorSet::default().selecting(sel).rescanned(zones(dir.path()));
        let reasons = |faults: &[TripFault]| faults.iter().map(|f| (f.zone.to_string(), f.index)).collect::<Vec<_>>();
        assert!(
            faults.is_empty() && first.trips.is_empty(),
            "no reading yet: trips wait"
        );
        assert_eq!(first.selected_trips, [None, None]);
        read_all(&first.zones, 1);
        assert_eq!(first.trip_ratio(1), None);

        // The second scan knows the readings: x86_pkg_temp's unset threshold goes.
        let (second, faults) = first.rescanned(zones(dir.path()));
        assert_eq!(
            reasons(&faults),
            [("thermal_zone0".into(), 0), ("thermal_zone1".into(), 2)]
        );
        let (again, faults) = second.rescanned(zones(dir.path()));
        assert!(faults.is_empty(), "faults already reported are not news: {faults:?}");
        assert_eq!(again.trips, second.trips);
        assert_eq!(second.selected_trips, [None, Some(75.0)]);
        assert_eq!(second.trip_ratio(1), Some(0.8));
        let trips: Vec<_> = second.trips.iter().map(|t| (&*t.zone, t.index, t.celsius)).collect();
        assert_eq!(trips, [("thermal_zone1", 0, 90.0), ("thermal_zone1", 1, 75.0)]);

        // Hot now: the lowest reading stays what it was, and 75 °C stays valid.
        dir.write("thermal_zone1/temp", "82000\n");
        read_all(&second.zones, 2);
        let (third, faults) = second.rescanned(zones(dir.path()));
        assert!(faults.is_empty(), "{faults:?}");
        assert_eq!(third.trip_ratio(2), Some(82.0 / 75.0));

        // A trip vanishes, another turns to garbage: one fault each, once.
        std::fs::remove_file(dir.path().join("thermal_zone1/trip_point_1_temp")).unwrap();
        std::fs::remove_file(dir.path().join("thermal_zone1/trip_point_1_type")).unwrap();
        dir.write("thermal_zone1/trip_point_0_temp", "garbage\n");
        let (fourth, faults) = third.rescanned(zones(dir.path()));
        let text: Vec<_> = faults.iter().map(|f| f.to_string()).collect();
        assert_eq!(
            text,
            [
                "thermal_zone1 trip_point_0 ignored: trip_point_0_temp: not a value this sysfs file can hold",
                "thermal_zone1 trip_point_1 ignored: its files are gone since the previous scan",
            ]
        );
        assert!(fourth.trips.is_empty());
        assert_eq!(fourth.trip_ratio(2), None, "no trip left: absent");
        assert_eq!(fourth.selected_celsius(2), Some(82.0), "the temperature is untouched");
        let (_, faults) = fourth.rescanned(zones(dir.path()));
        assert!(faults.is_empty(), "{faults:?}");
    }

    #[test]
    fn a_zone_that_starts_hot_gets_its_trip_back_once_cooler() {
        let dir = TestDir::new("sensor-set-hot-start");
        dir.write("thermal_zone0/type", "bigcore0-thermal\n");
        dir.write("thermal_zone0/temp", "80000\n");
        dir.write("thermal_zone0/trip_point_0_temp", "75000\n");
        dir.write("thermal_zone0/trip_point_0_type", "passive\n");
        dir.write("thermal_zone0/trip_point_1_temp", "115000\n");
        dir.write("thermal_zone0/trip_point_1_type", "critical\n");
        let sel = Selection::Thermal(ThermalSelector::Max);
        let (set, _) = SensorSet::default().selecting(sel).rescanned(zones(dir.path()));
        read_all(&set.zones, 1);
        let (hot, faults) = set.rescanned(zones(dir.path()));
        assert_eq!(faults.len(), 1, "75 °C is below the only reading so far");
        assert_eq!(hot.selected_trips, [Some(115.0)]);
        dir.write("thermal_zone0/temp", "50000\n");
        read_all(&hot.zones, 2);
        let (cooled, faults) = hot.rescanned(zones(dir.path()));
        assert!(faults.is_empty());
        assert_eq!(cooled.selected_trips, [Some(75.0)], "back once the zone read below it");
        dir.write("thermal_zone0/temp", "90000\n");
        read_all(&cooled.zones, 3);
        let (again, _) = cooled.rescanned(zones(dir.path()));
        assert_eq!(again.trip_ratio(3), Some(1.2), "and kept when it heats again");
    }
}
