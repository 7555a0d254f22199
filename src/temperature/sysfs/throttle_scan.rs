//! Discovery of the throttling files, at scan time (allocates freely):
//! cooling devices (`THERMAL_ROOT/cooling_deviceN/{type,cur_state,max_state}`),
//! Intel's throttle counters (`DEVICES_ROOT/system/cpu/cpuN/thermal_throttle/`)
//! and the Raspberry Pi firmware's `get_throttled` and under-voltage alarm.
//!
//! Labels and the choice of files follow node_exporter 1.5 (thermal_zone and
//! cpu collectors), so that both exporters' series join and agree.

use std::path::{Path, PathBuf};

use super::attribute::{numbered_entries, read_attribute};
use super::sensor::{Format, Sensor, SensorKind};

/// How deep under `DEVICES_ROOT/platform` the firmware device may sit
/// (`soc/soc:firmware` on a Pi 4: two levels).
const FIRMWARE_DEPTH: usize = 3;

/// Every `cooling_deviceN` under `root`: its `cur_state` files and its
/// `max_state` files, both labelled `name` (N, as node_exporter's `name`)
/// and `type`.
pub(super) fn scan_cooling_devices(root: &Path) -> (Vec<Sensor>, Vec<Sensor>) {
    numbered_entries(root, "cooling_device", "")
        .into_iter()
        .map(|(number, dir_name)| {
            let dir = root.join(dir_name);
            let kind = read_attribute(&dir.join("type")).unwrap_or_default();
            let labels: Vec<Box<str>> = vec![number.to_string().into(), kind.into()];
            let sensor = |file: &str| Sensor::new(SensorKind::CoolingDevice, dir.join(file), labels.clone(), vec![]);
            (sensor("cur_state"), sensor("max_state").parsed_as(Format::Count))
        })
        .unzip()
}

/// Intel's `core_throttle_count` once per core (labels `core, package`) and
/// `package_throttle_count` once per package (label `package`), each from
/// the first CPU of its core or package in the order node_exporter globs
/// them (`cpu10` before `cpu2`) that has the file. CPUs without topology
/// are skipped, as node_exporter does.
pub(super) fn scan_throttle_counters(devices_root: &Path) -> (Vec<Sensor>, Vec<Sensor>) {
    let cpu_root = devices_root.join("system/cpu");
    let Ok(entries) = std::fs::read_dir(&cpu_root) else {
        return (Vec::new(), Vec::new());
    };
    let mut cpus: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| {
            name.strip_prefix("cpu")
                .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    cpus.sort();
    let (mut cores, mut packages) = (Vec::<Sensor>::new(), Vec::<Sensor>::new());
    for cpu in cpus {
        let dir = cpu_root.join(cpu);
        let id = |file: &str| read_attribute(&dir.join("topology").join(file))?.parse::<u64>().ok();
        let (Some(package), Some(core)) = (id("physical_package_id"), id("core_id")) else {
            continue;
        };
        let (package, core): (Box<str>, Box<str>) = (package.to_string().into(), core.to_string().into());
        let counter = |file: &str| Some(dir.join("thermal_throttle").join(file)).filter(|p| p.is_file());
        let core_labels = [core, package.clone()];
        if !cores.iter().any(|s| *s.labels == core_labels) {
            if let Some(path) = counter("core_throttle_count") {
                cores.push(Sensor::new(SensorKind::ThrottleCount, path, core_labels.into(), vec![]));
            }
        }
        if !packages.iter().any(|s| s.labels[0] == package) {
            if let Some(path) = counter("package_throttle_count") {
                packages.push(Sensor::new(SensorKind::ThrottleCount, path, vec![package], vec![]));
            }
        }
    }
    (cores, packages)
}

/// The Raspberry Pi firmware's `get_throttled` (raspberrypi firmware
/// driver, Raspberry Pi kernels since 4.14): a file of that name in a
/// directory named `…firmware` at most [`FIRMWARE_DEPTH`] levels under
/// `DEVICES_ROOT/platform` (`soc/soc:firmware/get_throttled` on a Pi 4),
/// so that other SoC bus names need no code. Symbolic links are not
/// followed: sysfs is full of loops.
pub(super) fn find_firmware(devices_root: &Path) -> Option<Sensor> {
    let path = search(&devices_root.join("platform"), FIRMWARE_DEPTH)?;
    Some(Sensor::new(SensorKind::Firmware, path, vec![], vec![]))
}

/// The under-voltage alarm of the Raspberry Pi's `rpi_volt` hwmon chip
/// (drivers/hwmon/raspberrypi-hwmon.c, which polls the firmware every 2 s):
/// `in0_lcrit_alarm`, 1 while the supply is too low. Mainline kernels have
/// it where they lack `get_throttled`.
pub(super) fn find_undervoltage_alarm(hwmon_root: &Path) -> Option<Sensor> {
    numbered_entries(hwmon_root, "hwmon", "")
        .into_iter()
        .find_map(|(_, dir_name)| {
            let dir = hwmon_root.join(dir_name);
            let alarm = dir.join("in0_lcrit_alarm");
            let is_rpi_volt = read_attribute(&dir.join("name")).is_some_and(|name| name == "rpi_volt");
            (is_rpi_volt && alarm.is_file())
                .then(|| Sensor::new(SensorKind::Firmware, alarm, vec![], vec![]).parsed_as(Format::Count))
        })
}

fn search(dir: &Path, depth: usize) -> Option<PathBuf> {
    if depth == 0 {
        return None;
    }
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    subdirs.sort();
    let is_firmware = |d: &&PathBuf| d.file_name().is_some_and(|n| n.to_string_lossy().ends_with("firmware"));
    let found = subdirs
        .iter()
        .filter(is_firmware)
        .map(|d| d.join("get_throttled"))
        .find(|f| f.is_file());
    found.or_else(|| subdirs.iter().find_map(|d| search(d, depth - 1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake_sysfs::TestDir;

    fn labels(sensors: &[Sensor]) -> Vec<Vec<&str>> {
        sensors
            .iter()
            .map(|s| s.labels.iter().map(|l| &**l).collect())
            .collect()
    }

    #[test]
    fn cooling_devices_by_number() {
        let dir = TestDir::new("cooling-scan");
        dir.write("cooling_device10/type", "Processor\n");
        dir.write("cooling_device2/type", "intel_powerclamp\n");
        dir.write("cooling_device3/cur_state", "0\n"); // no type: empty label
        dir.write("thermal_zone0/type", "acpitz\n");
        let (cur, max) = scan_cooling_devices(dir.path());
        assert_eq!(
            labels(&cur),
            [vec!["2", "intel_powerclamp"], vec!["3", ""], vec!["10", "Processor"]]
        );
        assert_eq!(labels(&max), labels(&cur));
        assert_eq!(cur[0].path, dir.path().join("cooling_device2/cur_state"));
        assert_eq!((cur[0].format, max[0].format), (Format::CoolingState, Format::Count));
        assert_eq!(max[2].path, dir.path().join("cooling_device10/max_state"));
    }

    #[test]
    fn throttle_counters_once_per_core_and_package() {
        let dir = TestDir::new("throttle-scan");
        let cpu = |n: u32, package: &str, core: &str, files: &[&str]| {
            dir.write(&format!("system/cpu/cpu{n}/topology/physical_package_id"), package);
            dir.write(&format!("system/cpu/cpu{n}/topology/core_id"), core);
            for f in files {
                dir.write(&format!("system/cpu/cpu{n}/thermal_throttle/{f}"), "0\n");
            }
        };
        let both = ["core_throttle_count", "package_throttle_count"];
        cpu(0, "0\n", "0\n", &both);
        cpu(1, "0\n", "1\n", &both);
        cpu(2, "0\n", "0\n", &both); // cpu0's sibling
        cpu(10, "1\n", "0\n", &["package_throttle_count"]); // no core counter
        cpu(11, "1\n", "0\n", &both);
        cpu(3, "x\n", "0\n", &both); // no usable topology: skipped
        dir.write("system/cpu/cpufreq/policy0/x", "");
        let (cores, packages) = scan_throttle_counters(dir.path());
        assert_eq!(labels(&cores), [vec!["0", "0"], vec!["1", "0"], vec!["0", "1"]]);
        assert_eq!(labels(&packages), [vec!["0"], vec!["1"]]);
        let path = |s: &Sensor| s.path.strip_prefix(dir.path()).unwrap().to_owned();
        assert_eq!(
            path(&cores[2]),
            Path::new("system/cpu/cpu11/thermal_throttle/core_throttle_count")
        );
        assert_eq!(
            path(&packages[1]),
            Path::new("system/cpu/cpu10/thermal_throttle/package_throttle_count")
        );
        assert!(scan_throttle_counters(&dir.path().join("none")).0.is_empty());
    }

    #[test]
    fn firmware_found_under_the_soc_bus_without_following_links() {
        let dir = TestDir::new("firmware-scan");
        assert!(find_firmware(dir.path()).is_none());
        dir.write("platform/soc/soc:firmware/raspberrypi-hwmon/name", "rpi_volt\n");
        assert!(find_firmware(dir.path()).is_none(), "no get_throttled");
        std::os::unix::fs::symlink("..", dir.path().join("platform/soc/loop")).unwrap();
        dir.write("platform/soc/soc:firmware/get_throttled", "0\n");
        let found = find_firmware(dir.path()).unwrap();
        assert_eq!(found.path, dir.path().join("platform/soc/soc:firmware/get_throttled"));
        assert_eq!((found.kind, found.format), (SensorKind::Firmware, Format::Hex));
        dir.write("platform/a/b/c/x-firmware/get_throttled", "0\n");
        assert_eq!(
            find_firmware(dir.path()).unwrap().path,
            dir.path().join("platform/soc/soc:firmware/get_throttled"),
            "four levels down is too deep"
        );
    }

    #[test]
    fn undervoltage_alarm_of_the_rpi_volt_chip_only() {
        let dir = TestDir::new("rpi-volt-scan");
        dir.write("hwmon0/name", "cpu_thermal\n");
        dir.write("hwmon0/in0_lcrit_alarm", "0\n");
        assert!(find_undervoltage_alarm(dir.path()).is_none());
        dir.write("hwmon1/name", "rpi_volt\n");
        assert!(find_undervoltage_alarm(dir.path()).is_none(), "no alarm file");
        dir.write("hwmon1/in0_lcrit_alarm", "0\n");
        let found = find_undervoltage_alarm(dir.path()).unwrap();
        assert_eq!(found.path, dir.path().join("hwmon1/in0_lcrit_alarm"));
        assert_eq!((found.kind, found.format), (SensorKind::Firmware, Format::Count));
    }
}
