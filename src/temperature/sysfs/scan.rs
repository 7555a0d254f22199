//! Discovery: the thermal zones (`ROOT/thermal_zoneN/{type,temp}`) and hwmon
//! temperature sensors (`ROOT/hwmonN/tempM_input`, with the chip's `name` and
//! an optional `tempM_label`) under a root, for start-up and rescans only,
//! never per sample, so this allocates freely.
//!
//! A zone is listed as soon as its directory exists, even with an unreadable
//! or missing `temp`: that is a fault to count, not a reason to hide the zone.
//! The hwmon `chip` label is built as node_exporter (1.12 and later) builds
//! its own, so both exporters' series join on `{chip, sensor}`.
//! [`scan`] gathers these, the zones' trip points and the throttling files
//! (`throttle_scan`) into one [`Scan`].

use std::path::Path;

use super::attribute::{numbered_entries, read_attribute};
use super::config::SamplerConfig;
use super::sensor::{Sensor, SensorKind};
use super::throttle_scan::{find_firmware, find_undervoltage_alarm, scan_cooling_devices, scan_throttle_counters};
use super::trips::{list_trips, TripListing};

/// Everything one scan found, for [`SensorSet::rescanned`](super::sensor_set::SensorSet::rescanned).
#[derive(Default)]
pub(super) struct Scan {
    pub zones: Vec<Sensor>,
    pub hwmon: Vec<Sensor>,
    /// The zones' trip points, unjudged.
    pub trips: Vec<TripListing>,
    pub cooling_cur: Vec<Sensor>,
    pub cooling_max: Vec<Sensor>,
    pub core_throttles: Vec<Sensor>,
    pub package_throttles: Vec<Sensor>,
    /// The Raspberry Pi firmware's `get_throttled`, where there is one.
    pub firmware: Vec<Sensor>,
    /// The `rpi_volt` chip's `in0_lcrit_alarm`, where there is one.
    pub undervoltage: Vec<Sensor>,
}

/// Lists everything the sampler reads under the configured roots.
pub(super) fn scan(config: &SamplerConfig) -> Scan {
    let zones = scan_zones(&config.thermal_root);
    let trips = zones
        .iter()
        .flat_map(|zone| list_trips(zone.path.parent().unwrap_or(Path::new("")), &zone.labels[0]))
        .collect();
    let (cooling_cur, cooling_max) = scan_cooling_devices(&config.thermal_root);
    let (core_throttles, package_throttles) = scan_throttle_counters(&config.devices_root);
    Scan {
        zones,
        hwmon: scan_chips(&config.hwmon_root),
        trips,
        cooling_cur,
        cooling_max,
        core_throttles,
        package_throttles,
        firmware: find_firmware(&config.devices_root).into_iter().collect(),
        undervoltage: find_undervoltage_alarm(&config.hwmon_root).into_iter().collect(),
    }
}

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

/// Every `tempM_input` of every `hwmonN` under `root`, ordered by N then M
/// (empty when the root is missing or unreadable).
pub(super) fn scan_chips(root: &Path) -> Vec<Sensor> {
    let chips: Vec<Chip> = numbered_entries(root, "hwmon", "")
        .into_iter()
        .map(|(_, dir_name)| {
            let name = read_attribute(&root.join(&dir_name).join("name")).unwrap_or_default();
            let label = chip_label(&root.join(&dir_name), &name, &dir_name);
            Chip { label, name, dir_name }
        })
        .collect();
    let mut found = Vec::new();
    for (chip, label) in chips.iter().zip(unique_chip_labels(&chips)) {
        let dir = root.join(&chip.dir_name);
        for (number, file) in numbered_entries(&dir, "temp", "_input") {
            let sensor_label = read_attribute(&dir.join(format!("temp{number}_label"))).unwrap_or_default();
            found.push(Sensor::new(
                SensorKind::Hwmon,
                dir.join(file),
                vec![
                    label.as_str().into(),
                    format!("temp{number}").into(),
                    sensor_label.into(),
                ],
                vec![chip.name.as_str().into(), chip.dir_name.as_str().into()],
            ));
        }
    }
    found
}

struct Chip {
    /// From [`chip_label`], before collisions are resolved.
    label: String,
    /// The `name` file, trimmed; empty when there is none.
    name: String,
    /// `hwmonN`.
    dir_name: String,
}

/// node_exporter's collision rule (1.12, `hwmon: disambiguate colliding chip
/// labels`): every chip whose label is shared with another gets `_` and its
/// cleaned `name` appended, or `_` and its directory where the name is empty
/// or shared too. Two chips with one label would make duplicate series, an
/// invalid exposition.
fn unique_chip_labels(chips: &[Chip]) -> Vec<String> {
    let sharing = |chip: &Chip, same_name: bool| {
        let same = |other: &&Chip| other.label == chip.label && (!same_name || other.name == chip.name);
        chips.iter().filter(same).count()
    };
    chips
        .iter()
        .map(|chip| {
            if sharing(chip, false) == 1 {
                return chip.label.clone();
            }
            let name = clean(&chip.name);
            let suffix = if name.is_empty() || sharing(chip, true) > 1 {
                clean(&chip.dir_name)
            } else {
                name
            };
            format!("{}_{suffix}", chip.label)
        })
        .collect()
}

/// node_exporter's `hwmonName`: from the `device` link's target (stable
/// across reboots, where `hwmonN` numbering is not), else `name`, else the
/// directory.
fn chip_label(dir: &Path, name: &str, dir_name: &str) -> String {
    let device = std::fs::canonicalize(dir.join("device")).ok();
    let part = |p: Option<&Path>| p.and_then(Path::file_name).map(|n| clean(&n.to_string_lossy()));
    let dev_name = part(device.as_deref()).unwrap_or_default();
    let dev_type = part(device.as_deref().and_then(Path::parent)).unwrap_or_default();
    match clean(name) {
        _ if !dev_type.is_empty() && !dev_name.is_empty() => format!("{dev_type}_{dev_name}"),
        _ if !dev_name.is_empty() => dev_name,
        name if !name.is_empty() => name,
        _ => clean(dir_name),
    }
}

/// node_exporter's `cleanMetricName`: lowercased, every character outside
/// `[a-z0-9:_]` replaced by `_`, trimmed of `_`.
fn clean(s: &str) -> String {
    let keep = |c: &char| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == ':' || *c == '_';
    let replaced: String = s
        .chars()
        .map(|c| Some(c.to_ascii_lowercase()).filter(keep).unwrap_or('_'))
        .collect();
    replaced.trim_matches('_').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake_sysfs::TestDir;

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

    fn labels(found: &[Sensor]) -> Vec<(String, String, String)> {
        found
            .iter()
            .map(|f| {
                (
                    f.labels[0].to_string(),
                    f.labels[1].to_string(),
                    f.labels[2].to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn lists_sensors_with_chip_and_label() {
        let dir = TestDir::new("hwmon-scan");
        dir.write("hwmon0/name", "coretemp\n");
        dir.write("hwmon0/temp1_input", "45500\n");
        dir.write("hwmon0/temp1_label", "Package id 0\n");
        dir.write("hwmon0/temp10_input", "1\n");
        dir.write("hwmon0/temp2_input", "33000\n");
        dir.write("hwmon0/temp2_label", "Core 0\n");
        dir.write("hwmon0/temp3_label", "label without input\n");
        dir.write("hwmon0/in0_input", "1000\n");
        dir.write("hwmon1/name", "My Chip-2\n");
        dir.write("hwmon1/temp7_input", "9\n");
        dir.write("hwmon2/temp1_input", "1\n"); // no name file
        let found = scan_chips(dir.path());
        let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
        assert_eq!(
            labels(&found),
            [
                s("coretemp", "temp1", "Package id 0"),
                s("coretemp", "temp2", "Core 0"),
                s("coretemp", "temp10", ""),
                s("my_chip_2", "temp7", ""),
                s("hwmon2", "temp1", ""),
            ]
        );
        let aliases = |n: usize| found[n].aliases.iter().map(|a| &**a).collect::<Vec<_>>();
        assert_eq!(aliases(0), ["coretemp", "hwmon0"]);
        assert_eq!(aliases(3), ["My Chip-2", "hwmon1"]);
        assert_eq!(aliases(4), ["", "hwmon2"]);
        assert_eq!(found[1].path, dir.path().join("hwmon0/temp2_input"));
    }

    #[test]
    fn chip_from_device_link_and_collisions() {
        let dir = TestDir::new("hwmon-device");
        let chip = |n: u32, name: &str, device: Option<&str>| {
            dir.write(&format!("class/hwmon{n}/name"), &format!("{name}\n"));
            dir.write(&format!("class/hwmon{n}/temp1_input"), "1\n");
            if let Some(device) = device {
                std::fs::create_dir_all(dir.path().join("devices").join(device)).unwrap();
                let link = dir.path().join(format!("class/hwmon{n}/device"));
                std::os::unix::fs::symlink(Path::new("../../devices").join(device), link).unwrap();
            }
        };
        chip(0, "coretemp", Some("platform/coretemp.0"));
        // Two chips with one name and no device link: told apart by directory.
        chip(1, "nvme", None);
        chip(2, "nvme", None);
        // A dangling device link falls back to the name.
        chip(3, "acpitz", None);
        std::os::unix::fs::symlink("../../devices/gone", dir.path().join("class/hwmon3/device")).unwrap();
        // Two chips under one device (asus-nb-wmi): told apart by name.
        chip(4, "asus", Some("platform/asus-nb-wmi"));
        chip(5, "asus_nb_wmi", Some("platform/asus-nb-wmi"));
        let chips: Vec<_> = scan_chips(&dir.path().join("class"))
            .into_iter()
            .map(|f| f.labels[0].to_string())
            .collect();
        assert_eq!(
            chips,
            [
                "platform_coretemp_0",
                "nvme_hwmon1",
                "nvme_hwmon2",
                "acpitz",
                "platform_asus_nb_wmi_asus",
                "platform_asus_nb_wmi_asus_nb_wmi"
            ]
        );
    }

    #[test]
    fn cleans_like_node_exporter() {
        assert_eq!(clean("My Chip-2"), "my_chip_2");
        assert_eq!(clean("__a.b__"), "a_b");
        assert_eq!(clean("x:y_Z9"), "x:y_z9");
        assert_eq!(clean("é"), "");
        assert_eq!(clean("---"), "");
    }
}
