//! From configuration to a running temperature source: which source, the
//! collectors it adds to the registry, and one line saying why.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::sysfs::throttle_exposition::describe_throttling;
use super::sysfs::trip_exposition::describe_headroom;
use super::sysfs::{HwmonSelector, Sampler, SamplerConfig, Selection, SensorKind, SensorTemperature, ThermalSelector};
use super::{SimulatedTemperature, TemperatureSource};
use crate::metrics::Collector;

/// `--temperature-source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceChoice {
    Simulated,
    Thermal,
    Hwmon,
    /// Thermal if a zone is readable, else hwmon if a sensor is, else simulated.
    Auto,
}

impl FromStr for SourceChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "simulated" => Ok(SourceChoice::Simulated),
            "thermal" => Ok(SourceChoice::Thermal),
            "hwmon" => Ok(SourceChoice::Hwmon),
            "auto" => Ok(SourceChoice::Auto),
            _ => Err("expected simulated, thermal, hwmon or auto".into()),
        }
    }
}

impl fmt::Display for SourceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceChoice::Simulated => "simulated",
            SourceChoice::Thermal => "thermal",
            SourceChoice::Hwmon => "hwmon",
            SourceChoice::Auto => "auto",
        })
    }
}

/// Everything that decides the temperature source.
#[derive(Clone, Debug)]
pub struct TemperatureConfig {
    pub source: SourceChoice,
    pub sim_start: f64,
    pub sim_step: f64,
    pub thermal_zone: ThermalSelector,
    pub hwmon_sensor: HwmonSelector,
    /// Where the sensors are and how often they are read: all the sysfs
    /// layer is given.
    pub sampler: SamplerConfig,
}

/// The defaults, written only here: the command line's flags show them in
/// `--help` and fall back to them.
impl Default for TemperatureConfig {
    fn default() -> Self {
        TemperatureConfig {
            source: SourceChoice::Auto,
            sim_start: 50.0,
            sim_step: 10.0,
            thermal_zone: ThermalSelector::Cpu,
            hwmon_sensor: HwmonSelector::Cpu,
            sampler: SamplerConfig::default(),
        }
    }
}

/// A temperature source ready to serve.
pub struct TemperatureSetup {
    pub source: Arc<dyn TemperatureSource>,
    /// Families to register besides `cpu_temperature_celsius` (none for the
    /// simulated source).
    pub collectors: Vec<Arc<dyn Collector>>,
    /// One line for the log: which source, and why.
    pub summary: String,
    /// Keeps the sampling threads running; dropping the setup stops them.
    sampler: Option<Sampler>,
}

impl TemperatureSetup {
    pub fn sampler(&self) -> Option<&Sampler> {
        self.sampler.as_ref()
    }
}

/// Builds the configured source. For a real (or `auto`) source this lists
/// and reads the sensors once before returning, which takes at most the
/// read timeout even when a sensor hangs.
pub fn build_source(config: &TemperatureConfig) -> std::io::Result<TemperatureSetup> {
    if config.source == SourceChoice::Simulated {
        return Ok(simulated(config, "--temperature-source simulated".into()));
    }
    if !cfg!(target_os = "linux") {
        return not_linux(config);
    }
    let mut sampler = Sampler::new(config.sampler.clone());
    let (thermal_root, hwmon_root) = (
        config.sampler.thermal_root.display(),
        config.sampler.hwmon_root.display(),
    );
    let ((zones, zones_up), (chips, chips_up)) =
        (sampler.counts(SensorKind::Thermal), sampler.counts(SensorKind::Hwmon));
    let zones = format!("{zones_up} of {zones} thermal zones readable under {thermal_root}");
    let sensors = format!("{chips_up} of {chips} hwmon sensors readable under {hwmon_root}");
    let thermal = Selection::Thermal(config.thermal_zone.clone());
    let hwmon = Selection::Hwmon(config.hwmon_sensor.clone());
    let (selection, why) = match config.source {
        SourceChoice::Thermal => (thermal, format!("--temperature-source thermal; {zones}")),
        SourceChoice::Hwmon => (hwmon, format!("--temperature-source hwmon; {sensors}")),
        SourceChoice::Auto if zones_up > 0 => (thermal, format!("auto: {zones}")),
        SourceChoice::Auto if chips_up > 0 => (
            hwmon,
            format!("auto: no readable thermal zone under {thermal_root}; {sensors}"),
        ),
        SourceChoice::Auto | SourceChoice::Simulated => {
            let why =
                format!("auto: no readable thermal zone under {thermal_root} nor hwmon sensor under {hwmon_root}");
            return Ok(simulated(config, why));
        }
    };
    sampler.select(selection.clone());
    sampler.start()?;
    let output = sampler.output();
    let now = match output.selected_celsius() {
        Some(v) => format!("{v} °C now"),
        None => "no reading yet: cpu_temperature_celsius is absent until one is readable".into(),
    };
    let source = Arc::new(SensorTemperature::new(output.clone(), &selection));
    let set = output.sensors();
    let summary = format!(
        "{} ({why}); cpu_temperature_celsius from {selection}, {} sensor(s) match, {now}; sampled every {:?}; {}; {}",
        source.name(),
        set.selected.len(),
        config.sampler.interval,
        describe_headroom(&set),
        describe_throttling(&set),
    );
    let collectors = super::sysfs::collectors(&output);
    Ok(TemperatureSetup {
        source,
        collectors,
        summary,
        sampler: Some(sampler),
    })
}

/// thermal zones and hwmon sensors are Linux sysfs files: elsewhere `auto`
/// takes the simulation and an explicit real source is refused at start-up,
/// rather than running with a sensor that can never be read.
fn not_linux(config: &TemperatureConfig) -> std::io::Result<TemperatureSetup> {
    let os = std::env::consts::OS;
    match config.source {
        SourceChoice::Thermal | SourceChoice::Hwmon => Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!(
                "--temperature-source {} reads Linux sysfs and needs Linux (this is {os}); use auto or simulated",
                config.source
            ),
        )),
        SourceChoice::Auto | SourceChoice::Simulated => Ok(simulated(
            config,
            format!("auto: thermal zones and hwmon sensors need Linux sysfs, this is {os}"),
        )),
    }
}

fn simulated(config: &TemperatureConfig, why: String) -> TemperatureSetup {
    let (start, step) = (config.sim_start, config.sim_step);
    TemperatureSetup {
        source: Arc::new(SimulatedTemperature::new(start, step)),
        collectors: Vec::new(),
        summary: format!("simulated ({why}); start {start}, step {step}"),
        sampler: None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::temperature::Direction;
    use fake_sysfs::TestDir;

    fn config(dir: &TestDir, source: SourceChoice) -> TemperatureConfig {
        TemperatureConfig {
            source,
            sampler: SamplerConfig {
                thermal_root: dir.path().join("thermal"),
                hwmon_root: dir.path().join("hwmon"),
                devices_root: dir.path().join("devices"),
                interval: Duration::from_millis(100),
                read_timeout: Duration::from_secs(2),
            },
            ..TemperatureConfig::default()
        }
    }

    fn names(setup: &TemperatureSetup) -> Vec<String> {
        setup.collectors.iter().map(|c| c.desc().name().to_owned()).collect()
    }

    #[test]
    fn parses_source_choices() {
        for (s, c) in [
            ("simulated", SourceChoice::Simulated),
            ("thermal", SourceChoice::Thermal),
            ("hwmon", SourceChoice::Hwmon),
            (" auto ", SourceChoice::Auto),
        ] {
            assert_eq!(s.parse::<SourceChoice>(), Ok(c));
            assert_eq!(c.to_string(), s.trim());
        }
        assert!("Thermal".parse::<SourceChoice>().is_err());
    }

    #[test]
    fn auto_without_any_sensor_is_simulated() {
        let dir = TestDir::new("setup-none");
        let setup = build_source(&config(&dir, SourceChoice::Auto)).unwrap();
        assert_eq!(setup.source.name(), "simulated");
        assert!(setup.collectors.is_empty() && setup.sampler().is_none());
        assert!(
            setup
                .summary
                .starts_with("simulated (auto: no readable thermal zone under "),
            "{}",
            setup.summary
        );
        assert_eq!(setup.source.adjust(Direction::Up), Ok(60.0));
    }

    #[test]
    fn auto_ignores_zones_and_sensors_that_cannot_be_read() {
        let dir = TestDir::new("setup-unreadable");
        dir.write("thermal/thermal_zone0/type", "x86_pkg_temp\n");
        dir.write("thermal/thermal_zone0/temp", "garbage\n");
        dir.write("hwmon/hwmon0/name", "coretemp\n");
        dir.write("hwmon/hwmon0/temp1_input", "\n");
        let setup = build_source(&config(&dir, SourceChoice::Auto)).unwrap();
        assert_eq!(setup.source.name(), "simulated");
    }

    #[test]
    fn auto_prefers_thermal_then_hwmon() {
        let dir = TestDir::new("setup-auto");
        dir.write("hwmon/hwmon0/name", "coretemp\n");
        dir.write("hwmon/hwmon0/temp1_input", "61000\n");
        dir.write("thermal/thermal_zone0/type", "acpitz\n");
        dir.write("thermal/thermal_zone0/temp", "garbage\n");
        let setup = build_source(&config(&dir, SourceChoice::Auto)).unwrap();
        assert_eq!(setup.source.name(), "hwmon");
        assert!(
            setup.summary.contains("auto: no readable thermal zone under"),
            "{}",
            setup.summary
        );
        assert!(
            setup.summary.contains("1 of 1 hwmon sensors readable"),
            "{}",
            setup.summary
        );
        assert_eq!(setup.source.celsius(), Some(61.0));
        drop(setup);

        dir.write("thermal/thermal_zone0/temp", "42000\n");
        let setup = build_source(&config(&dir, SourceChoice::Auto)).unwrap();
        assert_eq!(setup.source.name(), "thermal");
        assert!(
            setup
                .summary
                .starts_with("thermal (auto: 1 of 1 thermal zones readable under "),
            "{}",
            setup.summary
        );
        assert!(
            setup
                .summary
                .contains("from thermal zone cpu, 1 sensor(s) match, 42 °C now"),
            "{}",
            setup.summary
        );
        assert_eq!(setup.source.celsius(), Some(42.0));
        assert_eq!(
            names(&setup),
            [
                "thermal_zone_temperature_celsius",
                "hwmon_temperature_celsius",
                "temperature_sensor_up",
                "temperature_sensor_read_errors_total",
                "thermal_zone_trip_point_celsius",
                "thermal_zone_trip_point_hysteresis_celsius",
                "cpu_temperature_trip_ratio",
                "cooling_device_cur_state",
                "cooling_device_max_state",
                "cpu_core_throttles_total",
                "cpu_package_throttles_total",
                "rpi_under_voltage_alarm",
                "rpi_throttled",
                "cpu_throttled"
            ]
        );
        assert_eq!(
            setup.source.adjust(Direction::Down),
            Err(crate::temperature::NotAdjustable(
                "temperature comes from a real sensor (thermal zone cpu); /cpuTempUp and /cpuTempDown only move the simulated source"
            ))
        );
    }

    #[test]
    fn an_explicit_source_runs_even_without_sensors() {
        let dir = TestDir::new("setup-explicit");
        let mut c = config(&dir, SourceChoice::Thermal);
        c.thermal_zone = ThermalSelector::Zone("thermal_zone3".into());
        let setup = build_source(&c).unwrap();
        assert_eq!(setup.source.name(), "thermal");
        assert_eq!(setup.source.celsius(), None);
        assert!(
            setup.summary.contains("0 sensor(s) match, no reading yet"),
            "{}",
            setup.summary
        );
        assert!(setup.sampler().is_some());

        // And a zone that shows up later is picked up by a rescan.
        dir.write("thermal/thermal_zone3/type", "acpitz\n");
        dir.write("thermal/thermal_zone3/temp", "25000\n");
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while setup.source.celsius() != Some(25.0) {
            assert!(std::time::Instant::now() < until, "zone never picked up");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What other systems do, checked here by calling the fallback directly.
    #[test]
    fn outside_linux_auto_simulates_and_real_sources_are_refused() {
        let mut c = TemperatureConfig::default();
        let setup = not_linux(&c).unwrap();
        assert_eq!(setup.source.name(), "simulated");
        assert!(setup.summary.contains("need Linux sysfs"), "{}", setup.summary);
        for source in [SourceChoice::Thermal, SourceChoice::Hwmon] {
            c.source = source;
            let err = not_linux(&c).err().expect("a real source outside Linux is an error");
            assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
            assert!(err.to_string().contains("needs Linux"), "{err}");
        }
    }

    #[test]
    fn simulated_on_request_even_with_sensors() {
        let dir = TestDir::new("setup-simulated");
        dir.write("thermal/thermal_zone0/type", "x86_pkg_temp\n");
        dir.write("thermal/thermal_zone0/temp", "42000\n");
        let setup = build_source(&config(&dir, SourceChoice::Simulated)).unwrap();
        assert_eq!(setup.source.name(), "simulated");
        assert_eq!(
            setup.summary,
            "simulated (--temperature-source simulated); start 50, step 10"
        );
    }
}
