//! Discovery of hwmon temperature sensors: `ROOT/hwmonN/tempM_input`, with
//! the chip's `name` and each sensor's optional `tempM_label`.
//!
//! The `chip` label is built the way node_exporter builds its own, so both
//! exporters' series join on `{chip, sensor}`: from the `device` symlink's
//! target (`platform_coretemp_0`, `nvme_nvme0`: stable across reboots, where
//! `hwmonN` numbering is not), else from the `name` file, else the `hwmonN`
//! directory name. Names are lowercased and every character outside
//! `[a-z0-9:_]` becomes `_`, trimmed of `_` at both ends.

use std::collections::HashSet;
use std::path::Path;

use super::attributes::{numbered_entries, read_attribute};
use super::sensor::{FoundSensor, SensorKind};

/// Every `tempM_input` of every `hwmonN` under `root`, ordered by N then M
/// (empty when the root is missing or unreadable).
pub fn scan_chips(root: &Path) -> Vec<FoundSensor> {
    let mut taken = HashSet::new();
    let mut found = Vec::new();
    for (_, dir_name) in numbered_entries(root, "hwmon", "") {
        let dir = root.join(&dir_name);
        let name = read_attribute(&dir.join("name")).unwrap_or_default();
        let mut chip = chip_label(&dir, &name, &dir_name);
        // Two chips with one label (two `nvme` chips without `device` links)
        // would make duplicate series, an invalid exposition: the later one
        // gets its directory appended.
        if !taken.insert(chip.clone()) {
            chip = format!("{chip}_{dir_name}");
            taken.insert(chip.clone());
        }
        for (number, file) in numbered_entries(&dir, "temp", "_input") {
            let label = read_attribute(&dir.join(format!("temp{number}_label"))).unwrap_or_default();
            found.push(FoundSensor {
                kind: SensorKind::Hwmon,
                path: dir.join(file),
                labels: vec![chip.clone(), format!("temp{number}"), label],
                aliases: vec![name.clone(), dir_name.clone()],
            });
        }
    }
    found
}

/// node_exporter's `hwmonName`: device type and name, else `name`, else the directory.
fn chip_label(dir: &Path, name: &str, dir_name: &str) -> String {
    if let Ok(device) = std::fs::canonicalize(dir.join("device")) {
        let dev_name = device
            .file_name()
            .map(|n| clean(&n.to_string_lossy()))
            .unwrap_or_default();
        let dev_type = device
            .parent()
            .and_then(Path::file_name)
            .map(|n| clean(&n.to_string_lossy()))
            .unwrap_or_default();
        if !dev_type.is_empty() && !dev_name.is_empty() {
            return format!("{dev_type}_{dev_name}");
        }
        if !dev_name.is_empty() {
            return dev_name;
        }
    }
    let name = clean(name);
    if !name.is_empty() {
        return name;
    }
    clean(dir_name)
}

/// node_exporter's `cleanMetricName`.
fn clean(s: &str) -> String {
    let replaced: String = s
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == ':' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    replaced.trim_matches('_').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temperature::sysfs::test_dir::TestDir;

    fn labels(found: &[FoundSensor]) -> Vec<(String, String, String)> {
        found
            .iter()
            .map(|f| (f.labels[0].clone(), f.labels[1].clone(), f.labels[2].clone()))
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
        assert_eq!(found[0].aliases, ["coretemp", "hwmon0"]);
        assert_eq!(found[3].aliases, ["My Chip-2", "hwmon1"]);
        assert_eq!(found[4].aliases, ["", "hwmon2"]);
        assert_eq!(found[1].path, dir.path().join("hwmon0/temp2_input"));
    }

    #[test]
    fn chip_from_device_link_and_duplicates() {
        let dir = TestDir::new("hwmon-device");
        std::fs::create_dir_all(dir.path().join("devices/platform/coretemp.0")).unwrap();
        dir.write("class/hwmon0/name", "coretemp\n");
        dir.write("class/hwmon0/temp1_input", "1\n");
        std::os::unix::fs::symlink(
            "../../devices/platform/coretemp.0",
            dir.path().join("class/hwmon0/device"),
        )
        .unwrap();
        dir.write("class/hwmon1/name", "nvme\n");
        dir.write("class/hwmon1/temp1_input", "1\n");
        dir.write("class/hwmon2/name", "nvme\n");
        dir.write("class/hwmon2/temp1_input", "1\n");
        // A dangling device link falls back to the name.
        dir.write("class/hwmon3/name", "acpitz\n");
        dir.write("class/hwmon3/temp1_input", "1\n");
        std::os::unix::fs::symlink("../../devices/gone", dir.path().join("class/hwmon3/device")).unwrap();
        let chips: Vec<_> = scan_chips(&dir.path().join("class"))
            .into_iter()
            .map(|f| f.labels[0].clone())
            .collect();
        assert_eq!(chips, ["platform_coretemp_0", "nvme", "nvme_hwmon2", "acpitz"]);
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
