//! Fake sysfs trees modelled on four real machines, for the thermal headroom
//! and throttling tests: the zones, trip points, cooling devices, Intel
//! throttle counters and Raspberry Pi firmware flags each one exposes, with
//! the kernel source each part comes from. Readings are plausible values,
//! not captures; the structure (zone types and order, trip types, order and
//! temperatures, cooling device types) follows the sources named.
#![allow(dead_code)]

use std::path::Path;

/// A thermal zone: `class/thermal/thermal_zoneN`.
pub struct Zone {
    pub zone_type: &'static str,
    pub millidegrees: i64,
    /// `(type, millidegrees, hysteresis)` for `trip_point_M_*`, in index order.
    pub trips: &'static [(&'static str, i64, Option<i64>)],
}

/// A cooling device: `class/thermal/cooling_deviceN`.
pub struct Cooling {
    pub cooling_type: &'static str,
    pub cur_state: i64,
    pub max_state: i64,
}

/// A logical CPU with Intel's `thermal_throttle` counters.
pub struct Cpu {
    pub package: u32,
    pub core: u32,
    pub core_throttles: u64,
    pub package_throttles: u64,
}

pub struct Board {
    pub name: &'static str,
    pub zones: &'static [Zone],
    pub cooling: &'static [Cooling],
    /// `devices/system/cpu/cpuN`, N = position.
    pub cpus: &'static [Cpu],
    /// `get_throttled`'s directory under `devices/`, and its text.
    pub firmware: Option<(&'static str, &'static str)>,
    /// `in0_lcrit_alarm` of the `rpi_volt` hwmon chip (`class/hwmon/hwmon0`).
    pub rpi_volt_alarm: Option<&'static str>,
    /// `(zone, trip index)` of each trip the app must drop: garbage the real
    /// board publishes.
    pub dropped_trips: &'static [(usize, usize)],
    /// The zone and trip `cpu_temperature_trip_ratio` is measured against
    /// under the default selector (`cpu`), if any.
    pub headroom: Option<(usize, usize)>,
}

/// Raspberry Pi 4 Model B (BCM2711), Raspberry Pi OS kernel (rpi-6.6.y).
/// - zone: `cpu-thermal` from arch/arm/boot/dts/broadcom/bcm2711.dtsi, read
///   by drivers/thermal/broadcom/bcm2711_thermal.c; its one trip is
///   `cpu-crit`, 90 °C, critical, hysteresis 0. The kernel has no passive
///   trip here: the VideoCore firmware throttles on its own (soft limit
///   80 °C, hard 85 °C), which only get_throttled shows.
/// - a fan on the gpio-fan overlay (arch/arm/boot/dts/overlays/
///   gpio-fan-overlay.dts, defaults temp=55000, hyst=10000): one active trip
///   and a `gpio-fan` cooling device (drivers/hwmon/gpio-fan.c) with one
///   speed, on.
/// - get_throttled under the firmware device `soc:firmware` (drivers/
///   firmware/raspberrypi.c, "Add a get_throttled sysfs file", 2018):
///   0xe0008 = soft temperature limit now; capped, throttled and soft
///   limit have occurred since boot.
/// - hwmon `rpi_volt` (drivers/hwmon/raspberrypi-hwmon.c): `in0_lcrit_alarm`
///   0, the supply is fine now.
pub const RPI4: Board = Board {
    name: "rpi4",
    zones: &[Zone {
        zone_type: "cpu-thermal",
        millidegrees: 58_426,
        trips: &[("critical", 90_000, Some(0)), ("active", 55_000, Some(10_000))],
    }],
    cooling: &[Cooling {
        cooling_type: "gpio-fan",
        cur_state: 1,
        max_state: 1,
    }],
    cpus: &[],
    firmware: Some(("platform/soc/soc:firmware", "e0008\n")),
    rpi_volt_alarm: Some("0\n"),
    dropped_trips: &[],
    headroom: Some((0, 0)),
};

/// Raspberry Pi 5 (BCM2712), Raspberry Pi OS kernel (rpi-6.6.y).
/// - zone: `cpu-thermal` from arch/arm64/boot/dts/broadcom/bcm2712.dtsi
///   (`cpu-crit`, 110 °C, critical), read by drivers/thermal/broadcom/
///   brcmstb_thermal.c; bcm2712-rpi-5-b.dts adds the fan's four active trips
///   `cpu-tepid` 50 °C, `cpu-warm` 60 °C, `cpu-hot` 67.5 °C, `cpu-vhot`
///   75 °C (hysteresis 5 °C), after the critical one in node order.
/// - the fan: `pwm-fan` (drivers/hwmon/pwm-fan.c) with five cooling levels
///   (max_state 4), at state 2 between warm and hot.
/// - get_throttled under the firmware device of the SoC bus: nothing set;
///   `rpi_volt`'s `in0_lcrit_alarm` 0.
pub const RPI5: Board = Board {
    name: "rpi5",
    zones: &[Zone {
        zone_type: "cpu-thermal",
        millidegrees: 63_150,
        trips: &[
            ("critical", 110_000, Some(0)),
            ("active", 50_000, Some(5_000)),
            ("active", 60_000, Some(5_000)),
            ("active", 67_500, Some(5_000)),
            ("active", 75_000, Some(5_000)),
        ],
    }],
    cooling: &[Cooling {
        cooling_type: "pwm-fan",
        cur_state: 2,
        max_state: 4,
    }],
    cpus: &[],
    firmware: Some(("platform/soc@107c000000/soc@107c000000:firmware", "0\n")),
    rpi_volt_alarm: Some("0\n"),
    dropped_trips: &[],
    headroom: Some((0, 0)),
};

const RK3588_CPU_TRIPS: &[(&str, i64, Option<i64>)] = &[
    ("passive", 75_000, Some(2_000)),
    ("passive", 85_000, Some(2_000)),
    ("critical", 115_000, Some(0)),
];
const RK3588_CRIT: &[(&str, i64, Option<i64>)] = &[("critical", 115_000, Some(0))];

/// A Rockchip RK3588 board (Rock 5B, Orange Pi 5 Plus), mainline kernel.
/// - seven zones from arch/arm64/boot/dts/rockchip/rk3588-base.dtsi
///   (rk3588s.dtsi before 6.10), read by drivers/thermal/rockchip_thermal.c
///   from TSADC channels 0-6, in node order: `package-thermal`,
///   `bigcore0-thermal`, `bigcore2-thermal`, `littlecore-thermal`,
///   `center-thermal`, `gpu-thermal`, `npu-thermal`. The three CPU zones
///   have `*-alert0` 75 °C and `*-alert1` 85 °C passive (hysteresis 2 °C)
///   and `*-crit` 115 °C; the others only `*-crit`.
/// - cooling devices: cpufreq cooling (drivers/thermal/cpufreq_cooling.c,
///   named `cpufreq-` + the policy's first CPU) for the A55 cluster (cpu0)
///   and the two A76 clusters (cpu4, cpu6), mapped to `alert1`; max_state
///   is the OPP table's length minus one.
///
/// None of the zone types names a CPU, so the default selector `cpu` takes
/// all seven zones and reports the hottest.
pub const RK3588: Board = Board {
    name: "rk3588",
    zones: &[
        Zone {
            zone_type: "package-thermal",
            millidegrees: 47_231,
            trips: RK3588_CRIT,
        },
        Zone {
            zone_type: "bigcore0-thermal",
            millidegrees: 61_846,
            trips: RK3588_CPU_TRIPS,
        },
        Zone {
            zone_type: "bigcore2-thermal",
            millidegrees: 60_923,
            trips: RK3588_CPU_TRIPS,
        },
        Zone {
            zone_type: "littlecore-thermal",
            millidegrees: 52_615,
            trips: RK3588_CPU_TRIPS,
        },
        Zone {
            zone_type: "center-thermal",
            millidegrees: 46_307,
            trips: RK3588_CRIT,
        },
        Zone {
            zone_type: "gpu-thermal",
            millidegrees: 45_384,
            trips: RK3588_CRIT,
        },
        Zone {
            zone_type: "npu-thermal",
            millidegrees: 45_846,
            trips: RK3588_CRIT,
        },
    ],
    cooling: &[
        Cooling {
            cooling_type: "cpufreq-cpu0",
            cur_state: 0,
            max_state: 7,
        },
        Cooling {
            cooling_type: "cpufreq-cpu4",
            cur_state: 0,
            max_state: 9,
        },
        Cooling {
            cooling_type: "cpufreq-cpu6",
            cur_state: 0,
            max_state: 9,
        },
    ],
    cpus: &[],
    firmware: None,
    rpi_volt_alarm: None,
    dropped_trips: &[],
    headroom: Some((1, 0)),
};

/// An x86 laptop (Intel Core, 6 cores / 12 threads), Debian kernel.
/// - `acpitz` (drivers/acpi/thermal.c): trips in the order the driver
///   registers them, critical (_CRT) then passive (_PSV), hysteresis 0.
/// - `INT3400 Thermal` (drivers/thermal/intel/int340x_thermal/
///   int3400_thermal.c): no trips, and a temperature fixed at 20 °C.
/// - `x86_pkg_temp` (drivers/thermal/intel/x86_pkg_temp_thermal.c): two
///   passive trips that are the package's programmable interrupt
///   thresholds, 0 while unset: garbage to the app, dropped and logged.
/// - cooling devices: `Processor` for each of the first CPUs
///   (drivers/acpi/processor_thermal.c, P-state limits plus T-states),
///   `intel_powerclamp` (drivers/thermal/intel/intel_powerclamp.c, -1
///   while no idle is injected) and `TCC Offset` (drivers/thermal/intel/
///   int340x_thermal/processor_thermal_device.c, degrees below TjMax).
/// - throttle counters (arch/x86/kernel/cpu/mce/therm_throt.c) per logical
///   CPU; siblings (N and N+6) share a core and may differ by an event in
///   flight, as cpu4 and cpu10 do here: node_exporter reads the first in
///   glob order (cpu10 before cpu4), and so must the app.
///
/// The default selector `cpu` picks `x86_pkg_temp`, which has no valid trip
/// left: no headroom unless `--thermal-zone acpitz`.
pub const LAPTOP: Board = Board {
    name: "laptop",
    zones: &[
        Zone {
            zone_type: "acpitz",
            millidegrees: 52_000,
            trips: &[("critical", 128_000, Some(0)), ("passive", 95_000, Some(0))],
        },
        Zone {
            zone_type: "INT3400 Thermal",
            millidegrees: 20_000,
            trips: &[],
        },
        Zone {
            zone_type: "x86_pkg_temp",
            millidegrees: 55_000,
            trips: &[("passive", 0, Some(0)), ("passive", 0, Some(0))],
        },
    ],
    cooling: &[
        Cooling {
            cooling_type: "Processor",
            cur_state: 0,
            max_state: 3,
        },
        Cooling {
            cooling_type: "Processor",
            cur_state: 0,
            max_state: 3,
        },
        Cooling {
            cooling_type: "Processor",
            cur_state: 0,
            max_state: 3,
        },
        Cooling {
            cooling_type: "Processor",
            cur_state: 0,
            max_state: 3,
        },
        Cooling {
            cooling_type: "intel_powerclamp",
            cur_state: -1,
            max_state: 100,
        },
        Cooling {
            cooling_type: "TCC Offset",
            cur_state: 5,
            max_state: 63,
        },
    ],
    cpus: &[
        cpu(0, 0, 1205, 3417),
        cpu(0, 1, 877, 3417),
        cpu(0, 2, 954, 3417),
        cpu(0, 3, 1311, 3417),
        cpu(0, 4, 8, 3417),
        cpu(0, 5, 731, 3417),
        cpu(0, 0, 1205, 3417),
        cpu(0, 1, 877, 3417),
        cpu(0, 2, 954, 3417),
        cpu(0, 3, 1311, 3417),
        cpu(0, 4, 9, 3418),
        cpu(0, 5, 731, 3417),
    ],
    firmware: None,
    rpi_volt_alarm: None,
    dropped_trips: &[(2, 0), (2, 1)],
    headroom: None,
};

const fn cpu(package: u32, core: u32, core_throttles: u64, package_throttles: u64) -> Cpu {
    Cpu {
        package,
        core,
        core_throttles,
        package_throttles,
    }
}

pub const BOARDS: [&Board; 4] = [&RPI4, &RPI5, &RK3588, &LAPTOP];

impl Board {
    /// Writes the board under `root` as sysfs lays it out (`root` plays
    /// `/sys`): `class/thermal`, `devices/system/cpu`, `devices/platform`.
    /// Zones get the `policy` file node_exporter insists on.
    pub fn write(&self, root: &Path) {
        let write = |relative: String, text: String| {
            let path = root.join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        std::fs::create_dir_all(root.join("class/hwmon")).unwrap();
        for (n, zone) in self.zones.iter().enumerate() {
            let dir = format!("class/thermal/thermal_zone{n}");
            write(format!("{dir}/type"), format!("{}\n", zone.zone_type));
            write(format!("{dir}/temp"), format!("{}\n", zone.millidegrees));
            write(format!("{dir}/policy"), "step_wise\n".into());
            for (m, &(kind, temp, hyst)) in zone.trips.iter().enumerate() {
                write(format!("{dir}/trip_point_{m}_type"), format!("{kind}\n"));
                write(format!("{dir}/trip_point_{m}_temp"), format!("{temp}\n"));
                if let Some(hyst) = hyst {
                    write(format!("{dir}/trip_point_{m}_hyst"), format!("{hyst}\n"));
                }
            }
        }
        for (n, c) in self.cooling.iter().enumerate() {
            let dir = format!("class/thermal/cooling_device{n}");
            write(format!("{dir}/type"), format!("{}\n", c.cooling_type));
            write(format!("{dir}/cur_state"), format!("{}\n", c.cur_state));
            write(format!("{dir}/max_state"), format!("{}\n", c.max_state));
        }
        for (n, cpu) in self.cpus.iter().enumerate() {
            let dir = format!("devices/system/cpu/cpu{n}");
            write(
                format!("{dir}/topology/physical_package_id"),
                format!("{}\n", cpu.package),
            );
            write(format!("{dir}/topology/core_id"), format!("{}\n", cpu.core));
            write(
                format!("{dir}/thermal_throttle/core_throttle_count"),
                format!("{}\n", cpu.core_throttles),
            );
            write(
                format!("{dir}/thermal_throttle/package_throttle_count"),
                format!("{}\n", cpu.package_throttles),
            );
        }
        if let Some((dir, text)) = self.firmware {
            write(format!("devices/{dir}/get_throttled"), text.into());
        }
        if let Some(alarm) = self.rpi_volt_alarm {
            write("class/hwmon/hwmon0/name".into(), "rpi_volt\n".into());
            write("class/hwmon/hwmon0/in0_lcrit_alarm".into(), alarm.into());
        }
    }
}
