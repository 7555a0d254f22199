//! Discovery of hwmon temperature sensors: `ROOT/hwmonN/tempM_input`, with
//! the chip's `name` and each sensor's optional `tempM_label`.
//!
//! The `chip` label is built the way node_exporter (1.12 and later) builds
//! its own, so both exporters' series join on `{chip, sensor}`: from the
//! `device` symlink's target (`platform_coretemp_0`, `nvme_nvme0`: stable
//! across reboots, where `hwmonN` numbering is not), else from the `name`
//! file, else the `hwmonN` directory name. Names are lowercased and every
//! character outside `[a-z0-9:_]` becomes `_`, trimmed of `_` at both ends.
//! Chips whose labels collide are all renamed (see [`unique_chip_labels`]).

use std::path::Path;

use super::attributes::{numbered_entries, read_attribute};
use super::sensor::{Sensor, SensorKind};

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
/// labels`): every chip whose label is shared with another (several hwmon
/// devices under one parent device, two `nvme` chips without `device` links)
/// gets `_` and its cleaned `name` appended, or `_` and its directory where
/// the name is empty or shared too. Two chips with one label would make
/// duplicate series, an invalid exposition.
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

/// node_exporter's `hwmonName`: device type and name, else `name`, else the directory.
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

/// node_exporter's `cleanMetricName`.
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
    use crate::temperature::sysfs::test_dir::TestDir;

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
