//! Discovery of thermal zones: `ROOT/thermal_zoneN/{type,temp}`.
//!
//! The default root is `/sys/class/thermal`, where each zone is a symlink
//! into `/sys/devices/virtual/thermal/`. Only the directory listing and the
//! `type` files are read here (at start-up and on rescans); `temp` is read by
//! the sampler. A zone is listed as soon as its directory exists, even with
//! an unreadable or missing `temp`: that is a fault to count, not a
//! reason to hide the zone.

use std::path::Path;

use super::attributes::{numbered_entries, read_attribute};
use super::sensor::{Sensor, SensorKind};

/// Every `thermal_zoneN` under `root`, in zone-number order (empty when the
/// root is missing or unreadable).
pub(super) fn scan_zones(root: &Path) -> Vec<Sensor> {
    numbered_entries(root, "thermal_zone", "")
        .into_iter()
        .map(|(_, name)| {
            let dir = root.join(&name);
            // `type` is a constant string set by the driver at registration;
            // an unreadable one leaves the label empty rather than the zone out.
            let zone_type = read_attribute(&dir.join("type")).unwrap_or_default();
            Sensor::new(
                SensorKind::Thermal,
                dir.join("temp"),
                vec![name.into(), zone_type.into()],
                vec![],
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temperature::sysfs::test_dir::TestDir;

    #[test]
    fn lists_zones_in_numeric_order_with_their_types() {
        let dir = TestDir::new("thermal-scan");
        dir.write("thermal_zone10/type", "cpu-thermal\n");
        dir.write("thermal_zone10/temp", "1\n");
        dir.write("thermal_zone2/type", "acpitz\n");
        dir.write("thermal_zone2/temp", "2\n");
        dir.write("thermal_zone3/temp", "3\n"); // no type file
        std::fs::create_dir_all(dir.path().join("thermal_zone4")).unwrap(); // no temp either
        dir.write("cooling_device0/type", "Processor\n");
        dir.write("thermal_zoneX/type", "not a zone\n");
        let zones = scan_zones(dir.path());
        let names: Vec<_> = zones.iter().map(|z| (&*z.labels[0], &*z.labels[1])).collect();
        assert_eq!(
            names,
            [
                ("thermal_zone2", "acpitz"),
                ("thermal_zone3", ""),
                ("thermal_zone4", ""),
                ("thermal_zone10", "cpu-thermal")
            ]
        );
        assert_eq!(zones[0].path, dir.path().join("thermal_zone2/temp"));
        assert!(zones
            .iter()
            .all(|z| z.kind == SensorKind::Thermal && z.aliases.is_empty()));
    }

    #[test]
    fn missing_root_means_no_zones() {
        assert!(scan_zones(Path::new("/nonexistent/thermal")).is_empty());
    }
}
