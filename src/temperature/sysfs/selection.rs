//! Which sensors feed `cpu_temperature_celsius`: the `--thermal-zone` and
//! `--hwmon-sensor` selectors. A selector picks a set of sensors and the
//! hottest readable one is reported, so a type shared by several zones (two
//! sockets) reports the hotter package, which is what an autoscaler on CPU
//! temperature wants.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::sensor::Sensor;

/// `--thermal-zone`: `cpu` (default), `max`, a zone name or a zone type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ThermalSelector {
    /// Zones whose type names a CPU (see [`names_a_cpu`]); every zone when none does.
    Cpu,
    /// Every zone.
    Max,
    /// One zone by directory name: `thermal_zone2`.
    Zone(String),
    /// Zones by `type`: `x86_pkg_temp`, `cpu-thermal`, `acpitz`.
    Type(String),
}

/// `--hwmon-sensor`: `cpu` (default), `max` or `CHIP/SENSOR`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HwmonSelector {
    /// Sensors of chips whose name names a CPU (`coretemp`, `k10temp`, …);
    /// every sensor when no chip does.
    Cpu,
    /// Every sensor.
    Max,
    /// `CHIP/SENSOR`: CHIP is the chip's `name` (`coretemp`), its `chip`
    /// label (`platform_coretemp_0`) or its directory (`hwmon3`); SENSOR is
    /// `tempN` or the sensor's label (`Package id 0`).
    Sensor { chip: String, sensor: String },
}

/// The selector of the active source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    Thermal(ThermalSelector),
    Hwmon(HwmonSelector),
}

impl FromStr for ThermalSelector {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Ok(match s {
            "" => return Err("expected cpu, max, a zone (thermal_zone2) or a zone type (x86_pkg_temp)".into()),
            "cpu" => ThermalSelector::Cpu,
            "max" => ThermalSelector::Max,
            _ if s
                .strip_prefix("thermal_zone")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
            {
                ThermalSelector::Zone(s.to_owned())
            }
            _ => ThermalSelector::Type(s.to_owned()),
        })
    }
}

impl FromStr for HwmonSelector {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Split at the first slash: chip names have none, labels may.
        match s
            .trim()
            .split_once('/')
            .map(|(chip, sensor)| (chip.trim(), sensor.trim()))
        {
            _ if s.trim() == "cpu" => Ok(HwmonSelector::Cpu),
            _ if s.trim() == "max" => Ok(HwmonSelector::Max),
            Some((chip, sensor)) if !chip.is_empty() && !sensor.is_empty() => Ok(HwmonSelector::Sensor {
                chip: chip.to_owned(),
                sensor: sensor.to_owned(),
            }),
            _ => Err("expected cpu, max or CHIP/SENSOR (coretemp/Package id 0, coretemp/temp1)".into()),
        }
    }
}

impl fmt::Display for ThermalSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ThermalSelector::Cpu => "cpu",
            ThermalSelector::Max => "max",
            ThermalSelector::Zone(name) | ThermalSelector::Type(name) => name,
        })
    }
}

impl fmt::Display for HwmonSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HwmonSelector::Cpu => f.write_str("cpu"),
            HwmonSelector::Max => f.write_str("max"),
            HwmonSelector::Sensor { chip, sensor } => write!(f, "{chip}/{sensor}"),
        }
    }
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selection::Thermal(s) => write!(f, "thermal zone {s}"),
            Selection::Hwmon(s) => write!(f, "hwmon sensor {s}"),
        }
    }
}

impl Selection {
    /// The sensors this selection picks among `zones` and `hwmon` (a scan's
    /// lists, in their order).
    pub fn candidates(&self, zones: &[Arc<Sensor>], hwmon: &[Arc<Sensor>]) -> Vec<Arc<Sensor>> {
        let pick = |list: &[Arc<Sensor>], keep: &dyn Fn(&Sensor) -> bool| -> Vec<Arc<Sensor>> {
            list.iter().filter(|s| keep(s)).cloned().collect()
        };
        let cpu_or_all = |list: &[Arc<Sensor>], is_cpu: &dyn Fn(&Sensor) -> bool| {
            Some(pick(list, is_cpu))
                .filter(|cpu| !cpu.is_empty())
                .unwrap_or_else(|| list.to_vec())
        };
        match self {
            Selection::Thermal(ThermalSelector::Cpu) => cpu_or_all(zones, &|s| names_a_cpu(&s.labels[1])),
            Selection::Thermal(ThermalSelector::Max) => zones.to_vec(),
            Selection::Thermal(ThermalSelector::Zone(name)) => pick(zones, &|s| &*s.labels[0] == name),
            Selection::Thermal(ThermalSelector::Type(t)) => pick(zones, &|s| &*s.labels[1] == t),
            Selection::Hwmon(HwmonSelector::Cpu) => {
                cpu_or_all(hwmon, &|s| s.aliases.first().is_some_and(|name| names_a_cpu(name)))
            }
            Selection::Hwmon(HwmonSelector::Max) => hwmon.to_vec(),
            Selection::Hwmon(HwmonSelector::Sensor { chip, sensor }) => pick(hwmon, &|s| {
                let labels = &s.labels;
                let chip_matches = &*labels[0] == chip || s.aliases.iter().any(|a| &**a == chip);
                chip_matches && (&*labels[1] == sensor || &*labels[2] == sensor)
            }),
        }
    }
}

/// Whether a zone type or hwmon chip name is the CPU's, case-insensitively:
/// Intel's package zone and hwmon drivers (`x86_pkg_temp`, `coretemp`),
/// AMD's (`k10temp`, `k8temp`, `zenpower`), and the ARM/SoC conventions
/// (`cpu-thermal`, `cpu0_thermal`, `CPU-therm`, `TCPU`, `soc_thermal`), i.e.
/// anything containing `cpu` or starting with `soc`.
pub(super) fn names_a_cpu(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "x86_pkg_temp" | "coretemp" | "k10temp" | "k8temp" | "zenpower"
    ) || name.contains("cpu")
        || name.starts_with("soc")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temperature::sysfs::sensor::SensorKind;

    fn zone(n: u32, t: &str) -> Arc<Sensor> {
        let labels = vec![format!("thermal_zone{n}").into(), t.into()];
        Arc::new(Sensor::new(
            SensorKind::Thermal,
            format!("/x/thermal_zone{n}/temp").into(),
            labels,
            vec![],
        ))
    }

    fn hwmon(dir: u32, name: &str, chip: &str, n: u32, label: &str) -> Arc<Sensor> {
        let labels = vec![chip.into(), format!("temp{n}").into(), label.into()];
        let path = format!("/x/hwmon{dir}/temp{n}_input").into();
        Arc::new(Sensor::new(
            SensorKind::Hwmon,
            path,
            labels,
            vec![name.into(), format!("hwmon{dir}").into()],
        ))
    }

    fn names(v: &[Arc<Sensor>]) -> Vec<String> {
        v.iter().map(|s| s.labels[..2].join(":")).collect()
    }

    #[test]
    fn parses_thermal_selectors() {
        assert_eq!("cpu".parse(), Ok(ThermalSelector::Cpu));
        assert_eq!(" max ".parse(), Ok(ThermalSelector::Max));
        assert_eq!(
            "thermal_zone12".parse(),
            Ok(ThermalSelector::Zone("thermal_zone12".into()))
        );
        assert_eq!("thermal_zone".parse(), Ok(ThermalSelector::Type("thermal_zone".into())));
        assert_eq!("x86_pkg_temp".parse(), Ok(ThermalSelector::Type("x86_pkg_temp".into())));
        assert_eq!(
            "INT3400 Thermal".parse(),
            Ok(ThermalSelector::Type("INT3400 Thermal".into()))
        );
        assert!("".parse::<ThermalSelector>().is_err());
        assert_eq!(
            ThermalSelector::Zone("thermal_zone1".into()).to_string(),
            "thermal_zone1"
        );
    }

    #[test]
    fn parses_hwmon_selectors() {
        assert_eq!("cpu".parse(), Ok(HwmonSelector::Cpu));
        assert_eq!("max".parse(), Ok(HwmonSelector::Max));
        assert_eq!(
            "coretemp/Package id 0".parse(),
            Ok(HwmonSelector::Sensor {
                chip: "coretemp".into(),
                sensor: "Package id 0".into()
            })
        );
        assert_eq!(
            "drivetemp/a/b".parse(),
            Ok(HwmonSelector::Sensor {
                chip: "drivetemp".into(),
                sensor: "a/b".into()
            })
        );
        for bad in ["", "coretemp", "/temp1", "coretemp/", " / "] {
            assert!(bad.parse::<HwmonSelector>().is_err(), "{bad:?}");
        }
        assert_eq!(
            Selection::Hwmon("coretemp/temp1".parse().unwrap()).to_string(),
            "hwmon sensor coretemp/temp1"
        );
    }

    #[test]
    fn recognises_cpu_names() {
        for yes in [
            "x86_pkg_temp",
            "cpu-thermal",
            "cpu0_thermal",
            "CPU-therm",
            "TCPU",
            "soc_thermal",
            "coretemp",
            "k10temp",
        ] {
            assert!(names_a_cpu(yes), "{yes}");
        }
        for no in [
            "acpitz",
            "iwlwifi_1",
            "pch_skylake",
            "nvme",
            "INT3400 Thermal",
            "B0D4",
            "",
        ] {
            assert!(!names_a_cpu(no), "{no}");
        }
    }

    #[test]
    fn thermal_candidates() {
        let zones = [
            zone(0, "acpitz"),
            zone(1, "x86_pkg_temp"),
            zone(2, "iwlwifi_1"),
            zone(3, "x86_pkg_temp"),
        ];
        let sel = |s: &str| names(&Selection::Thermal(s.parse().unwrap()).candidates(&zones, &[]));
        assert_eq!(sel("cpu"), ["thermal_zone1:x86_pkg_temp", "thermal_zone3:x86_pkg_temp"]);
        assert_eq!(sel("max").len(), 4);
        assert_eq!(sel("thermal_zone2"), ["thermal_zone2:iwlwifi_1"]);
        assert_eq!(sel("acpitz"), ["thermal_zone0:acpitz"]);
        assert!(sel("thermal_zone9").is_empty());
        assert!(sel("nothing").is_empty());
        // No CPU zone: `cpu` falls back to every zone.
        let board = [zone(0, "acpitz"), zone(1, "pch_skylake")];
        assert_eq!(
            names(&Selection::Thermal(ThermalSelector::Cpu).candidates(&board, &[])),
            ["thermal_zone0:acpitz", "thermal_zone1:pch_skylake"]
        );
    }

    #[test]
    fn hwmon_candidates() {
        let sensors = [
            hwmon(0, "acpitz", "acpitz", 1, ""),
            hwmon(1, "coretemp", "platform_coretemp_0", 1, "Package id 0"),
            hwmon(1, "coretemp", "platform_coretemp_0", 2, "Core 0"),
            hwmon(2, "nvme", "nvme_nvme0", 1, "Composite"),
        ];
        let sel = |s: &str| names(&Selection::Hwmon(s.parse().unwrap()).candidates(&[], &sensors));
        assert_eq!(sel("cpu"), ["platform_coretemp_0:temp1", "platform_coretemp_0:temp2"]);
        assert_eq!(sel("max").len(), 4);
        assert_eq!(sel("coretemp/Package id 0"), ["platform_coretemp_0:temp1"]);
        assert_eq!(sel("platform_coretemp_0/temp2"), ["platform_coretemp_0:temp2"]);
        assert_eq!(sel("hwmon2/Composite"), ["nvme_nvme0:temp1"]);
        assert!(sel("coretemp/Core 9").is_empty());
        assert!(sel("k10temp/Tctl").is_empty());
        let no_cpu = &sensors[3..];
        assert_eq!(
            names(&Selection::Hwmon(HwmonSelector::Cpu).candidates(&[], no_cpu)),
            ["nvme_nvme0:temp1"]
        );
    }
}
