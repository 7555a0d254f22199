//! The real sensor backend end to end: fake sysfs trees written here, the
//! real server started in-process (and once as the binary), `/metrics`
//! scraped over a real socket, and node_exporter run on the same trees as a
//! reference for the values.

#[path = "common/boards.rs"]
mod boards;
mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use boards::{Board, BOARDS, LAPTOP, RK3588, RPI4, RPI5};
use common::exposition::Metrics;
use common::{http10_get, spawn_binary_logged, wait_for_exit, Client, TestServer};
use custom_metrics_app::internals::app::App;
use custom_metrics_app::internals::temperature::sysfs::{SamplerConfig, RESIDENT_READERS};
use custom_metrics_app::internals::temperature::{
    build_source, SourceChoice, TemperatureConfig, TemperatureSetup, ThermalSelector,
};
use fake_sysfs::{wait_for, TestDir};

/// Every wait in this file gives up after this long.
const PATIENCE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------
// The standard tree: several zones and chips, odd types, negative, tiny and
// huge values, and hwmon faults that node_exporter skips as well.
// ---------------------------------------------------------------------------

/// `(zone, type, millidegrees)` of the standard tree's thermal zones.
const ZONES: &[(&str, &str, i64)] = &[
    ("thermal_zone0", "x86_pkg_temp", 45_500),
    ("thermal_zone1", "acpitz", -12_345),
    ("thermal_zone2", r#"odd "zone" \ type"#, 9_223_372_036_854_775_807),
    ("thermal_zone3", "INT3400 Thermal", 0),
    ("thermal_zone10", "cpu-thermal", 9),
];

/// `(chip, sensor, label, millidegrees)` of the standard tree's readable hwmon sensors.
const HWMON: &[(&str, &str, &str, i64)] = &[
    ("platform_coretemp_0", "temp1", "Package id 0", 61_000),
    ("platform_coretemp_0", "temp2", "Core 0", 33_333),
    ("platform_coretemp_0", "temp3", "", -1),
    ("nvme", "temp1", "Composite", -40_123),
    ("nvme", "temp4", "Sensor 2", 123_456_789),
    ("my_chip_2", "temp7", "", 9),
    ("my_chip_2", "temp8", "", 26),
    ("hwmon3", "temp1", "", 1),
];

fn standard_tree(sys: &FakeSys) {
    for &(zone, ty, milli) in ZONES {
        let n: u32 = zone.trim_start_matches("thermal_zone").parse().unwrap();
        sys.zone(n, ty, &format!("{milli}\n"));
    }
    sys.chip(0, Some("coretemp"));
    sys.device_link(0, "devices/platform/coretemp.0");
    sys.sensor(0, 1, "61000\n", Some("Package id 0"));
    sys.sensor(0, 2, "33333\n", Some("Core 0"));
    sys.sensor(0, 3, "-1\n", None);
    sys.chip(1, Some("nvme"));
    sys.sensor(1, 1, "-40123\n", Some("Composite"));
    sys.sensor(1, 2, "garbage\n", Some("Sensor 1"));
    sys.sensor(1, 3, "", None);
    sys.sensor(1, 4, "123456789\n", Some("Sensor 2"));
    sys.chip(2, Some("My Chip-2"));
    sys.sensor(2, 7, "9\n", None);
    sys.sensor(2, 8, "26\n", None);
    sys.chip(3, None);
    sys.sensor(3, 1, "1\n", None);
}

fn celsius(milli: i64) -> f64 {
    milli as f64 / 1000.0
}

#[test]
fn exports_every_zone_and_sensor_with_exact_values() {
    let sys = FakeSys::new("exact");
    standard_tree(&sys);
    let server = serve(&sys.config(SourceChoice::Auto, 100, 2000));
    assert!(
        server.setup.summary.starts_with(&format!(
            "thermal (auto: 5 of 5 thermal zones readable under {}); cpu_temperature_celsius from thermal zone cpu, 2 sensor(s) match, 45.5 °C now",
            sys.thermal().display()
        )),
        "{}",
        server.setup.summary
    );
    let m = server.metrics();

    // The default selector `cpu`: the hottest of x86_pkg_temp and cpu-thermal.
    assert_eq!(m.text("cpu_temperature_celsius", &[]), Some("45.5"));
    assert_eq!(m.text("temperature_sensor_up", &[]), Some("1"));
    assert_eq!(
        m.text("temperature_sensor_read_errors_total", &[("source", "thermal")]),
        Some("0")
    );
    assert!(
        m.value("temperature_sensor_read_errors_total", &[("source", "hwmon")])
            .unwrap()
            >= 2.0
    );

    let zones = m.family("thermal_zone_temperature_celsius");
    assert_eq!(zones.len(), ZONES.len());
    for &(zone, ty, milli) in ZONES {
        assert_eq!(
            m.value("thermal_zone_temperature_celsius", &[("zone", zone), ("type", ty)]),
            Some(celsius(milli)),
            "{zone}"
        );
    }
    // Exact text, escaping and number formatting included.
    assert!(m
        .raw
        .contains("thermal_zone_temperature_celsius{zone=\"thermal_zone0\",type=\"x86_pkg_temp\"} 45.5\n"));
    assert!(m
        .raw
        .contains("thermal_zone_temperature_celsius{zone=\"thermal_zone1\",type=\"acpitz\"} -12.345\n"));
    assert!(m.raw.contains(
        "thermal_zone_temperature_celsius{zone=\"thermal_zone2\",type=\"odd \\\"zone\\\" \\\\ type\"} 9223372036854776\n"
    ));
    assert!(m
        .raw
        .contains("thermal_zone_temperature_celsius{zone=\"thermal_zone10\",type=\"cpu-thermal\"} 0.009\n"));

    let sensors = m.family("hwmon_temperature_celsius");
    assert_eq!(sensors.len(), HWMON.len(), "garbage and empty files have no sample");
    for &(chip, sensor, label, milli) in HWMON {
        assert_eq!(
            m.value(
                "hwmon_temperature_celsius",
                &[("chip", chip), ("sensor", sensor), ("label", label)]
            ),
            Some(celsius(milli)),
            "{chip}/{sensor}"
        );
    }
    assert!(m.raw.contains(
        "hwmon_temperature_celsius{chip=\"platform_coretemp_0\",sensor=\"temp1\",label=\"Package id 0\"} 61\n"
    ));
    assert!(m
        .raw
        .contains("hwmon_temperature_celsius{chip=\"my_chip_2\",sensor=\"temp7\",label=\"\"} 0.009\n"));
    assert!(m
        .raw
        .contains("hwmon_temperature_celsius{chip=\"nvme\",sensor=\"temp4\",label=\"Sensor 2\"} 123456.789\n"));
}

#[test]
fn temperature_requests_answer_409_with_a_real_source() {
    let sys = FakeSys::new("conflict");
    standard_tree(&sys);
    let server = serve(&sys.config(SourceChoice::Thermal, 100, 2000));
    let reason = "temperature comes from a real sensor (thermal zone cpu); \
                  /cpuTempUp and /cpuTempDown only move the simulated source\n";
    assert_eq!(server.get("/cpuTempUp"), (409, reason.to_string()));
    assert_eq!(server.get("/cpuTempUp"), (409, reason.to_string()));
    assert_eq!(server.get("/cpuTempDown"), (409, reason.to_string()));
    let m = server.metrics();
    assert_eq!(
        m.text("total_req_num", &[("status", "409"), ("api", "cpuTempUp")]),
        Some("2")
    );
    assert_eq!(
        m.text("total_req_num", &[("status", "409"), ("api", "cpuTempDown")]),
        Some("1")
    );
    assert_eq!(
        m.text("total_req_num", &[("status", "200"), ("api", "cpuTempUp")]),
        Some("0")
    );
    assert_eq!(m.text("cpu_temperature_celsius", &[]), Some("45.5"), "nothing moved");
}

#[test]
fn selectors_pick_the_reported_sensor() {
    let sys = FakeSys::new("selectors");
    standard_tree(&sys);
    let cases: &[(SourceChoice, &str, Option<&str>)] = &[
        (SourceChoice::Thermal, "max", Some("9223372036854776")),
        (SourceChoice::Thermal, "thermal_zone1", Some("-12.345")),
        (SourceChoice::Thermal, "INT3400 Thermal", Some("0")),
        (SourceChoice::Thermal, "thermal_zone7", None),
        (SourceChoice::Hwmon, "cpu", Some("61")),
        (SourceChoice::Hwmon, "coretemp/Core 0", Some("33.333")),
        (SourceChoice::Hwmon, "platform_coretemp_0/temp3", Some("-0.001")),
        (SourceChoice::Hwmon, "nvme/temp2", None),
        (SourceChoice::Hwmon, "max", Some("123456.789")),
    ];
    for &(source, selector, expected) in cases {
        let mut config = sys.config(source, 100, 2000);
        match source {
            SourceChoice::Thermal => config.thermal_zone = selector.parse().unwrap(),
            _ => config.hwmon_sensor = selector.parse().unwrap(),
        }
        let server = serve(&config);
        let m = server.metrics();
        assert_eq!(m.text("cpu_temperature_celsius", &[]), expected, "{selector}");
        let up = if expected.is_some() { "1" } else { "0" };
        assert_eq!(m.text("temperature_sensor_up", &[]), Some(up), "{selector}");
    }
}

#[test]
fn cross_check_with_node_exporter() {
    let Some(exporter) = node_exporter() else {
        // CI installs it: a missing reference there is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "prometheus-node-exporter is required in CI but was not found"
        );
        // Straight to fd 2: libtest captures eprintln! of passing tests, and
        // a skipped cross-check must show in CI logs.
        let _ = std::io::stderr().write_all(
            b"\n==================================================================\n\
              SKIP cross_check_with_node_exporter: prometheus-node-exporter is not\n\
              installed (apt-get install prometheus-node-exporter, or set NODE_EXPORTER)\n\
              ==================================================================\n",
        );
        return;
    };
    let sys = FakeSys::new("node-exporter");
    standard_tree(&sys);
    let server = serve(&sys.config(SourceChoice::Auto, 100, 2000));
    let ours = server.metrics();
    let theirs = NodeExporter::start(&exporter, sys.root()).metrics();

    // Thermal zones: node_exporter divides millidegrees by 1000, as we do,
    // so the values are equal to the bit.
    let their_zones = theirs.family("node_thermal_zone_temp");
    assert_eq!(their_zones.len(), ZONES.len(), "{}", theirs.raw);
    for (labels, theirs_value) in their_zones {
        let zone = format!("thermal_zone{}", labels["zone"]);
        let ours_value = ours
            .value(
                "thermal_zone_temperature_celsius",
                &[("zone", &zone), ("type", &labels["type"])],
            )
            .unwrap_or_else(|| panic!("we lack {zone}"));
        assert_eq!(ours_value.to_bits(), theirs_value.to_bits(), "{zone}");
    }

    // hwmon: node_exporter multiplies by 0.001 instead, which is one
    // rounding off the nearest double for some values (9 millidegrees:
    // 0.009000000000000001 against our 0.009). Both read the same number:
    // each side equals its own arithmetic on the file's millidegrees, and the
    // two agree within one unit in the last place.
    let their_sensors = theirs.family("node_hwmon_temp_celsius");
    assert_eq!(their_sensors.len(), HWMON.len(), "{}", theirs.raw);
    let mut rounding_differences = 0;
    for (labels, theirs_value) in their_sensors {
        let (chip, sensor) = (&labels["chip"], &labels["sensor"]);
        let &(_, _, label, milli) = HWMON
            .iter()
            .find(|h| h.0 == chip && h.1 == sensor)
            .unwrap_or_else(|| panic!("node_exporter has {chip}/{sensor}, the tree does not"));
        let ours_value = ours
            .value(
                "hwmon_temperature_celsius",
                &[("chip", chip), ("sensor", sensor), ("label", label)],
            )
            .unwrap_or_else(|| panic!("we lack {chip}/{sensor}"));
        assert_eq!(ours_value, milli as f64 / 1000.0);
        assert_eq!(theirs_value, milli as f64 * 0.001);
        assert!(
            (ours_value - theirs_value).abs() <= ours_value.abs() * f64::EPSILON,
            "{chip}/{sensor}: {ours_value} vs {theirs_value}"
        );
        if ours_value != theirs_value {
            rounding_differences += 1;
        }
    }
    assert_eq!(
        rounding_differences, 2,
        "9 and 26 millidegrees round differently, the rest agree to the bit"
    );
}

#[test]
fn a_hanging_read_stalls_neither_scrapes_nor_other_sensors() {
    let sys = FakeSys::new("hang");
    sys.write("class/thermal/thermal_zone0/type", "x86_pkg_temp\n");
    let fifo = sys.dir.fifo("class/thermal/thermal_zone0/temp");
    sys.zone(1, "acpitz", "30000\n");
    sys.chip(0, Some("coretemp"));
    sys.sensor(0, 1, "50000\n", None);
    let mut config = sys.config(SourceChoice::Thermal, 100, 50);
    config.thermal_zone = ThermalSelector::Zone("thermal_zone0".into());

    // Start-up reads once and gives the hanging zone its deadline, no more.
    let started = Instant::now();
    let server = serve(&config);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "start-up waited {:?}",
        started.elapsed()
    );
    assert!(
        server.setup.summary.contains("1 of 2 thermal zones readable"),
        "{}",
        server.setup.summary
    );
    let sampler = server.setup.sampler().unwrap();

    // Scrapes answer at once, over and over, while the read hangs.
    for _ in 0..20 {
        let asked = Instant::now();
        let m = server.metrics();
        assert!(
            asked.elapsed() < Duration::from_secs(1),
            "a scrape took {:?}",
            asked.elapsed()
        );
        assert_eq!(
            m.text("cpu_temperature_celsius", &[]),
            None,
            "no sample while the sensor is down"
        );
        assert_eq!(m.text("temperature_sensor_up", &[]), Some("0"));
        assert_eq!(
            m.text(
                "thermal_zone_temperature_celsius",
                &[("zone", "thermal_zone0"), ("type", "x86_pkg_temp")]
            ),
            None
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(server.get("/healthz").0, 200);

    // The other sensors keep their pace.
    sys.zone_temp(1, "31000\n");
    sys.write("class/hwmon/hwmon0/temp1_input", "52000\n");
    wait_for("other sensors to update", || {
        let m = server.metrics();
        m.value(
            "thermal_zone_temperature_celsius",
            &[("zone", "thermal_zone1"), ("type", "acpitz")],
        ) == Some(31.0)
            && m.value(
                "hwmon_temperature_celsius",
                &[("chip", "coretemp"), ("sensor", "temp1"), ("label", "")],
            ) == Some(52.0)
    });

    // Each pass counts the outstanding read; it holds one thread, not one per pass.
    let errors = |m: &Metrics| {
        m.value("temperature_sensor_read_errors_total", &[("source", "thermal")])
            .unwrap()
    };
    let before = errors(&server.metrics());
    wait_for("timeouts to be counted", || errors(&server.metrics()) >= before + 3.0);
    // (A read of a healthy sensor delayed past 50 ms on a loaded machine is
    // written off too, briefly; so this waits instead of asserting at once.)
    wait_for("one thread for the hung sensor", || {
        sampler.reader_threads() == RESIDENT_READERS + 1
    });

    // Released and replaced by a regular file: the blocked open returns, the
    // written-off reader retires, and the zone comes back.
    let writer = TestDir::release_fifo(&fifo).expect("a reader waits on the FIFO");
    std::fs::remove_file(&fifo).unwrap();
    sys.write("class/thermal/thermal_zone0/temp", "55000\n");
    drop(writer);
    wait_for("the zone to come back", || {
        let m = server.metrics();
        m.text("cpu_temperature_celsius", &[]) == Some("55") && m.text("temperature_sensor_up", &[]) == Some("1")
    });
    wait_for("the blocked reader to retire", || {
        sampler.reader_threads() == RESIDENT_READERS
    });
}

#[test]
fn faults_and_zones_coming_and_going() {
    let sys = FakeSys::new("faults");
    sys.zone(0, "x86_pkg_temp", "50000\n");
    sys.zone(1, "acpitz", "garbage\n");
    sys.zone(2, "acpitz", "");
    sys.write("class/thermal/thermal_zone3/type", "acpitz\n"); // no temp file
    sys.zone(4, "acpitz", "1000\n");
    std::fs::remove_file(sys.thermal().join("thermal_zone4/temp")).unwrap();
    std::fs::create_dir(sys.thermal().join("thermal_zone4/temp")).unwrap(); // EISDIR
    sys.zone(5, "x86_pkg_temp", "70000\n");
    let mut config = sys.config(SourceChoice::Thermal, 50, 1000);
    config.thermal_zone = ThermalSelector::Max;
    let server = serve(&config);
    let zone = |m: &Metrics, n: u32, ty: &str| {
        m.value(
            "thermal_zone_temperature_celsius",
            &[("zone", &format!("thermal_zone{n}")), ("type", ty)],
        )
    };

    let m = server.metrics();
    assert_eq!(m.text("cpu_temperature_celsius", &[]), Some("70"));
    assert_eq!(
        m.family("thermal_zone_temperature_celsius").len(),
        2,
        "only zones 0 and 5 are readable"
    );
    assert_eq!(zone(&m, 0, "x86_pkg_temp"), Some(50.0));
    assert_eq!(zone(&m, 5, "x86_pkg_temp"), Some(70.0));
    // Four broken zones: four errors per pass.
    let errors = |m: &Metrics| {
        m.value("temperature_sensor_read_errors_total", &[("source", "thermal")])
            .unwrap()
    };
    let before = errors(&m);
    assert!(before >= 4.0);
    wait_for("errors to keep counting", || errors(&server.metrics()) >= before + 8.0);

    // A broken zone mended.
    sys.zone_temp(1, "-5000\n");
    wait_for("zone 1", || zone(&server.metrics(), 1, "acpitz") == Some(-5.0));

    // The hottest zone removed: gone after a rescan, the maximum follows.
    std::fs::remove_dir_all(sys.thermal().join("thermal_zone5")).unwrap();
    wait_for("zone 5 to go", || {
        let m = server.metrics();
        zone(&m, 5, "x86_pkg_temp").is_none() && m.text("cpu_temperature_celsius", &[]) == Some("50")
    });

    // A new zone added while running.
    sys.zone(6, "x86_pkg_temp", "80000\n");
    wait_for("zone 6", || {
        let m = server.metrics();
        zone(&m, 6, "x86_pkg_temp") == Some(80.0) && m.text("cpu_temperature_celsius", &[]) == Some("80")
    });

    // Every zone broken: no temperature sample at all, up is 0, the server answers.
    for n in [0, 1, 6] {
        sys.zone_temp(n, "\n");
    }
    wait_for("every zone down", || {
        let m = server.metrics();
        m.text("cpu_temperature_celsius", &[]).is_none()
            && m.text("temperature_sensor_up", &[]) == Some("0")
            && m.family("thermal_zone_temperature_celsius").is_empty()
    });
    assert_eq!(server.get("/healthz").0, 200);
    assert_eq!(server.get("/readyz").0, 200);

    sys.zone_temp(0, "51000\n");
    wait_for("zone 0 back", || {
        let m = server.metrics();
        m.text("cpu_temperature_celsius", &[]) == Some("51") && m.text("temperature_sensor_up", &[]) == Some("1")
    });
}

#[test]
fn auto_without_sensors_serves_the_simulated_temperature() {
    let sys = FakeSys::new("no-sensors");
    let server = serve(&sys.config(SourceChoice::Auto, 100, 2000));
    assert_eq!(server.setup.source.name(), "simulated");
    assert_eq!(server.get("/cpuTempUp"), (200, "60\n".to_string()));
    let m = server.metrics();
    assert_eq!(m.text("cpu_temperature_celsius", &[]), Some("60"));
    for absent in [
        "temperature_sensor_up",
        "temperature_sensor_read_errors_total",
        "thermal_zone_temperature_celsius",
        "hwmon_temperature_celsius",
        "thermal_zone_trip_point",
        "cpu_temperature_trip_ratio",
        "cooling_device_",
        "_throttles_total",
        "rpi_",
        "cpu_throttled",
    ] {
        assert!(!m.raw.contains(absent), "{absent} without a real source");
    }
}

#[test]
fn the_binary_takes_sensor_settings_from_the_environment() {
    let sys = FakeSys::new("binary");
    standard_tree(&sys);
    let (thermal, hwmon, devices) = (sys.thermal(), sys.hwmon(), sys.root().join("devices"));
    sys.write("devices/platform/soc/soc:firmware/get_throttled", "4\n");
    let (child, addr, line) = spawn_binary_logged(
        &["--workers", "1"],
        &[
            ("CMA_TEMPERATURE_SOURCE", "hwmon"),
            ("CMA_THERMAL_ROOT", thermal.to_str().unwrap()),
            ("CMA_HWMON_ROOT", hwmon.to_str().unwrap()),
            ("CMA_HWMON_SENSOR", "coretemp/Core 0"),
            ("CMA_SENSOR_INTERVAL", "0.1"),
            ("CMA_DEVICES_ROOT", devices.to_str().unwrap()),
        ],
    );
    let mut guard = KillOnDrop(child);
    assert!(
        line.contains("temperature source: hwmon (--temperature-source hwmon; 8 of 10 hwmon sensors readable under"),
        "{line}"
    );
    assert!(line.contains("the Raspberry Pi firmware flags"), "{line}");
    let m = Metrics::parse(Client::connect(addr).get("/metrics").text());
    assert_eq!(m.text("cpu_temperature_celsius", &[]), Some("33.333"));
    assert_eq!(
        m.text("rpi_throttled", &[("flag", "throttled"), ("when", "now")]),
        Some("1"),
        "CMA_DEVICES_ROOT reaches the sampler"
    );
    assert_eq!(m.text("cpu_throttled", &[]), Some("1"));

    // SIGTERM: drains and exits 0, sampler threads and all.
    let child = &mut guard.0;
    // SAFETY: plain kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) }, 0);
    let status = wait_for_exit(child, PATIENCE, "exit after SIGTERM");
    assert!(status.success(), "{status}");

    // A bad selector in the environment: one line, exit 2.
    let out = Command::new(env!("CARGO_BIN_EXE_custom-metrics-app"))
        .env("CMA_HWMON_SENSOR", "coretemp")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--hwmon-sensor"), "{err}");
}

// ---------------------------------------------------------------------------
// Trip points, headroom and throttling on trees modelled on real boards
// (tests/common/boards.rs names the kernel sources).
// ---------------------------------------------------------------------------

/// A board's tree served with the default selector, sampled every 50 ms.
fn serve_board(board: &Board) -> (FakeSys, Serving) {
    let sys = FakeSys::new(board.name);
    board.write(sys.root());
    let server = serve(&sys.config(SourceChoice::Auto, 50, 2000));
    (sys, server)
}

/// `(core, package, count)` per core and `(package, count)` per package.
type Throttles = (Vec<(String, String, f64)>, Vec<(String, f64)>);

/// The Intel counters node_exporter reports: per core and per package,
/// the first CPU in glob order (`cpu10` before `cpu2`) that has them.
fn expected_throttles(board: &Board) -> Throttles {
    let mut order: Vec<(String, usize)> = (0..board.cpus.len()).map(|n| (format!("cpu{n}"), n)).collect();
    order.sort();
    let (mut cores, mut packages) = (Vec::new(), Vec::<(String, f64)>::new());
    for (_, n) in order {
        let cpu = &board.cpus[n];
        let (core, package) = (cpu.core.to_string(), cpu.package.to_string());
        if !cores.iter().any(|(c, p, _)| *c == core && *p == package) {
            cores.push((core, package.clone(), cpu.core_throttles as f64));
        }
        if !packages.iter().any(|(p, _)| *p == package) {
            packages.push((package, cpu.package_throttles as f64));
        }
    }
    (cores, packages)
}

fn errors(m: &Metrics, source: &str) -> f64 {
    m.value("temperature_sensor_read_errors_total", &[("source", source)])
        .unwrap_or_else(|| panic!("no error series for {source}"))
}

#[test]
fn board_fixtures_export_what_they_hold() {
    for board in BOARDS {
        let (sys, server) = serve_board(board);
        let m = server.metrics();
        let name = board.name;

        // Trip points: every one the board holds but the garbage it publishes.
        let mut kept = 0;
        for (z, zone) in board.zones.iter().enumerate() {
            for (t, &(kind, temp, hyst)) in zone.trips.iter().enumerate() {
                let (zone_label, index) = (format!("thermal_zone{z}"), t.to_string());
                let labels = [("zone", zone_label.as_str()), ("index", &index), ("type", kind)];
                let dropped = board.dropped_trips.contains(&(z, t));
                let expected = |milli: i64| (!dropped).then_some(milli as f64 / 1000.0);
                assert_eq!(
                    m.value("thermal_zone_trip_point_celsius", &labels),
                    expected(temp),
                    "{name} {zone_label} trip {t}"
                );
                assert_eq!(
                    m.value("thermal_zone_trip_point_hysteresis_celsius", &labels),
                    hyst.and_then(expected),
                    "{name} {zone_label} trip {t} hysteresis"
                );
                kept += usize::from(!dropped);
            }
        }
        assert_eq!(m.family("thermal_zone_trip_point_celsius").len(), kept, "{name}");
        assert_eq!(errors(&m, "trip_point"), board.dropped_trips.len() as f64, "{name}");

        // Headroom: the selected zone's temperature over its trip, or nothing.
        let ratio = m.value("cpu_temperature_trip_ratio", &[]);
        match board.headroom {
            Some((z, t)) => {
                let zone = &board.zones[z];
                let expected = (zone.millidegrees as f64 / 1000.0) / (zone.trips[t].1 as f64 / 1000.0);
                assert_eq!(ratio, Some(expected), "{name}");
                assert!(server
                    .setup
                    .summary
                    .contains("cpu_temperature_trip_ratio against thermal_zone"));
                assert!(
                    server.setup.summary.contains(&format!(
                        "thermal_zone{z} {} trip_point_{t} at {} °C",
                        zone.trips[t].0,
                        zone.trips[t].1 as f64 / 1000.0
                    )),
                    "{name}: {}",
                    server.setup.summary
                );
            }
            None => {
                assert_eq!(ratio, None, "{name}");
                assert!(server.setup.summary.contains("cpu_temperature_trip_ratio absent"));
            }
        }

        // Cooling devices, as written.
        assert_eq!(m.family("cooling_device_cur_state").len(), board.cooling.len());
        for (n, c) in board.cooling.iter().enumerate() {
            let labels = [("name", n.to_string()), ("type", c.cooling_type.to_string())];
            let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(m.value("cooling_device_cur_state", &labels), Some(c.cur_state as f64));
            assert_eq!(m.value("cooling_device_max_state", &labels), Some(c.max_state as f64));
        }

        // Intel throttle counters, one per core and per package.
        let (cores, packages) = expected_throttles(board);
        assert_eq!(m.family("cpu_core_throttles_total").len(), cores.len(), "{name}");
        for (core, package, count) in cores {
            let labels = [("core", core.as_str()), ("package", &package)];
            assert_eq!(m.value("cpu_core_throttles_total", &labels), Some(count));
        }
        assert_eq!(m.family("cpu_package_throttles_total").len(), packages.len());
        for (package, count) in packages {
            assert_eq!(
                m.value("cpu_package_throttles_total", &[("package", &package)]),
                Some(count)
            );
        }

        // Raspberry Pi firmware flags: eight series, each one bit.
        let flags = board
            .firmware
            .map(|(_, text)| u32::from_str_radix(text.trim(), 16).unwrap());
        let names = [
            "under_voltage",
            "frequency_capped",
            "throttled",
            "soft_temperature_limit",
        ];
        for (bit, flag) in names.iter().enumerate() {
            for (when, shift) in [("now", 0), ("since_boot", 16)] {
                let expected = flags.map(|f| f64::from((f >> (bit + shift)) & 1));
                assert_eq!(
                    m.value("rpi_throttled", &[("flag", flag), ("when", when)]),
                    expected,
                    "{name} {flag} {when}"
                );
            }
        }

        let alarm = board.rpi_volt_alarm.map(|text| text.trim().parse::<f64>().unwrap());
        assert_eq!(m.value("rpi_under_voltage_alarm", &[]), alarm, "{name}");

        // Throttled now: only the Pi 4's firmware says so (soft limit).
        let throttled = if board.name == "rpi4" { "1" } else { "0" };
        assert_eq!(m.text("cpu_throttled", &[]), Some(throttled), "{name}");
        for source in ["thermal", "cooling_device", "throttle_count", "rpi_firmware"] {
            assert_eq!(errors(&m, source), 0.0, "{name} {source}");
        }
        drop(sys);
    }
}

#[test]
fn boards_heat_up_and_throttle() {
    // RK3588 under load: the big cores pass alert0 and alert1, cpufreq
    // cooling engages, the ratio passes 1.
    let (sys, server) = serve_board(&RK3588);
    sys.zone_temp(1, "86000\n");
    sys.write("class/thermal/cooling_device1/cur_state", "3\n");
    wait_for("the RK3588 to throttle", || {
        let m = server.metrics();
        m.value("cpu_temperature_trip_ratio", &[]) == Some(86.0 / 75.0)
            && m.text("cpu_throttled", &[]) == Some("1")
            && m.text("cpu_temperature_celsius", &[]) == Some("86")
    });
    // Cooled below alert0 but cpufreq still capped: throttled, ratio under 1.
    sys.zone_temp(1, "72000\n");
    wait_for("the ratio to follow", || {
        let m = server.metrics();
        m.value("cpu_temperature_trip_ratio", &[]) == Some(72.0 / 75.0) && m.text("cpu_throttled", &[]) == Some("1")
    });
    sys.write("class/thermal/cooling_device1/cur_state", "0\n");
    wait_for("cpufreq released", || {
        server.metrics().text("cpu_throttled", &[]) == Some("0")
    });
    drop(server);

    // The laptop: a throttle event moves a counter; throttled for that
    // interval, then not. acpitz pinned: its passive trip gives a ratio.
    // A 400 ms interval: the one interval that shows the rise outlasts a
    // scrape on a loaded machine.
    let sys = FakeSys::new("laptop-events");
    LAPTOP.write(sys.root());
    let mut config = sys.config(SourceChoice::Thermal, 400, 2000);
    config.thermal_zone = "acpitz".parse().unwrap();
    let server = serve(&config);
    let m = server.metrics();
    assert_eq!(m.value("cpu_temperature_trip_ratio", &[]), Some(52.0 / 95.0));
    assert_eq!(m.text("cpu_throttled", &[]), Some("0"));
    // Watch for the one interval in which cpu_throttled is 1.
    sys.write(
        "devices/system/cpu/cpu0/thermal_throttle/package_throttle_count",
        "3420\n",
    );
    wait_for("the counter's rise", || {
        server.metrics().text("cpu_throttled", &[]) == Some("1")
    });
    wait_for("the next interval", || {
        server.metrics().text("cpu_throttled", &[]) == Some("0")
    });
    assert_eq!(
        server
            .metrics()
            .value("cpu_package_throttles_total", &[("package", "0")]),
        Some(3420.0)
    );
    // idle injection starts
    sys.write("class/thermal/cooling_device4/cur_state", "25\n");
    wait_for("powerclamp", || {
        server.metrics().text("cpu_throttled", &[]) == Some("1")
    });
    drop(server);

    // The Pi 5 on a weak supply: under-voltage and capping now.
    let (sys, server) = serve_board(&RPI5);
    sys.write(
        "devices/platform/soc@107c000000/soc@107c000000:firmware/get_throttled",
        "50005\n",
    );
    sys.write("class/hwmon/hwmon0/in0_lcrit_alarm", "1\n");
    wait_for("the flags", || {
        let m = server.metrics();
        let flag = |flag: &str, when: &str| m.value("rpi_throttled", &[("flag", flag), ("when", when)]);
        flag("under_voltage", "now") == Some(1.0)
            && flag("throttled", "now") == Some(1.0)
            && flag("frequency_capped", "now") == Some(0.0)
            && flag("under_voltage", "since_boot") == Some(1.0)
            && flag("throttled", "since_boot") == Some(1.0)
            && flag("soft_temperature_limit", "since_boot") == Some(0.0)
            && m.text("cpu_throttled", &[]) == Some("1")
            && m.text("rpi_under_voltage_alarm", &[]) == Some("1")
    });
}

#[test]
fn throttling_series_equal_node_exporters_on_every_board() {
    let Some(exporter) = node_exporter() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "prometheus-node-exporter is required in CI but was not found"
        );
        let _ = std::io::stderr().write_all(b"\nSKIP throttling_series_equal_node_exporters: no node_exporter\n");
        return;
    };
    let mut compared = 0;
    for board in BOARDS {
        let (sys, server) = serve_board(board);
        let ours = server.metrics();
        let theirs = NodeExporter::start(&exporter, sys.root()).metrics();
        let pairs = [
            ("node_cooling_device_cur_state", "cooling_device_cur_state"),
            ("node_cooling_device_max_state", "cooling_device_max_state"),
            ("node_cpu_core_throttles_total", "cpu_core_throttles_total"),
            ("node_cpu_package_throttles_total", "cpu_package_throttles_total"),
        ];
        for (their_name, our_name) in pairs {
            let their_family = theirs.family(their_name);
            let our_family = ours.family(our_name);
            assert_eq!(their_family.len(), our_family.len(), "{} {our_name}", board.name);
            for (labels, value) in their_family {
                let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let our_value = ours
                    .value(our_name, &labels)
                    .unwrap_or_else(|| panic!("{}: we lack {our_name}{labels:?}", board.name));
                assert_eq!(
                    our_value.to_bits(),
                    value.to_bits(),
                    "{} {our_name}{labels:?}",
                    board.name
                );
                compared += 1;
            }
        }
        // And the zones still agree.
        assert_eq!(
            theirs.family("node_thermal_zone_temp").len(),
            ours.family("thermal_zone_temperature_celsius").len()
        );
    }
    // 1 + 1 + 3 + 6 cooling devices, twice; 6 cores and 1 package.
    assert_eq!(compared, 2 * 11 + 6 + 1);
}

#[test]
fn garbage_in_the_new_files_costs_only_that_file() {
    let sys = FakeSys::new("garbage");
    RPI4.write(sys.root());
    LAPTOP.cooling.iter().enumerate().for_each(|(n, c)| {
        let dir = format!("class/thermal/cooling_device{}", n + 1);
        sys.write(&format!("{dir}/type"), &format!("{}\n", c.cooling_type));
        sys.write(&format!("{dir}/cur_state"), &format!("{}\n", c.cur_state));
        sys.write(&format!("{dir}/max_state"), &format!("{}\n", c.max_state));
    });
    for n in 0..4 {
        sys.write(
            &format!("devices/system/cpu/cpu{n}/topology/physical_package_id"),
            "0\n",
        );
        sys.write(
            &format!("devices/system/cpu/cpu{n}/topology/core_id"),
            &format!("{n}\n"),
        );
        sys.write(
            &format!("devices/system/cpu/cpu{n}/thermal_throttle/core_throttle_count"),
            "10\n",
        );
        sys.write(
            &format!("devices/system/cpu/cpu{n}/thermal_throttle/package_throttle_count"),
            "20\n",
        );
    }
    // One garbage file of each kind; its neighbours stay good.
    let zone = "class/thermal/thermal_zone0";
    sys.write(&format!("{zone}/trip_point_2_temp"), "hot\n"); // text
    sys.write(&format!("{zone}/trip_point_2_type"), "passive\n");
    sys.write(&format!("{zone}/trip_point_3_temp"), "80000\n");
    sys.write(&format!("{zone}/trip_point_3_type"), "warm\n"); // undefined type
    sys.write(&format!("{zone}/trip_point_4_temp"), "-5000\n"); // negative
    sys.write(&format!("{zone}/trip_point_4_type"), "hot\n");
    sys.write(&format!("{zone}/trip_point_5_temp"), &"9".repeat(5000)); // huge
    sys.write(&format!("{zone}/trip_point_5_type"), "hot\n");
    sys.write(&format!("{zone}/trip_point_6_temp"), "85000\n"); // good, then gone
    sys.write(&format!("{zone}/trip_point_6_type"), "hot\n");
    sys.write("class/thermal/cooling_device1/cur_state", "garbage\n"); // text
    sys.write("class/thermal/cooling_device2/max_state", ""); // empty
    sys.write("class/thermal/cooling_device3/cur_state", "-7\n"); // negative
    sys.write("class/thermal/cooling_device4/max_state", &"9".repeat(40)); // huge
    sys.write("devices/system/cpu/cpu1/thermal_throttle/core_throttle_count", "-1\n");
    sys.write(
        "devices/system/cpu/cpu2/thermal_throttle/core_throttle_count",
        "99999999999999999999999\n",
    );
    let firmware = "devices/platform/soc/soc:firmware/get_throttled";
    sys.write(firmware, "0x50005\n"); // not what the kernel writes
    let server = serve(&sys.config(SourceChoice::Auto, 50, 2000));
    let m = server.metrics();

    assert_eq!(m.text("cpu_temperature_celsius", &[]), Some("58.426"), "untouched");
    assert_eq!(m.text("temperature_sensor_up", &[]), Some("1"));
    let trips: Vec<String> = m
        .family("thermal_zone_trip_point_celsius")
        .into_iter()
        .map(|(labels, _)| labels["index"].clone())
        .collect();
    assert_eq!(trips, ["0", "1", "6"], "only the good trip points");
    assert_eq!(errors(&m, "trip_point"), 4.0, "one per bad trip, once");
    assert_eq!(
        m.value("cpu_temperature_trip_ratio", &[]),
        Some(58.426 / 85.0),
        "hot before critical"
    );

    let state = |m: &Metrics, family: &str, n: u32| {
        let labels = [("name", n.to_string())];
        m.family(family)
            .into_iter()
            .find(|(l, _)| l["name"] == labels[0].1)
            .map(|(_, v)| v)
    };
    assert_eq!(state(&m, "cooling_device_cur_state", 1), None);
    assert_eq!(
        state(&m, "cooling_device_max_state", 1),
        Some(3.0),
        "the same device's other file"
    );
    assert_eq!(state(&m, "cooling_device_max_state", 2), None);
    assert_eq!(state(&m, "cooling_device_cur_state", 3), None);
    assert_eq!(state(&m, "cooling_device_max_state", 4), None);
    assert_eq!(state(&m, "cooling_device_cur_state", 0), Some(1.0), "the fan is fine");
    assert_eq!(
        state(&m, "cooling_device_cur_state", 5),
        Some(-1.0),
        "powerclamp's -1 is valid"
    );
    let cores: Vec<String> = m
        .family("cpu_core_throttles_total")
        .into_iter()
        .map(|(labels, _)| labels["core"].clone())
        .collect();
    assert_eq!(cores, ["0", "3"]);
    assert_eq!(m.family("cpu_package_throttles_total").len(), 1);
    assert!(
        m.family("rpi_throttled").is_empty(),
        "no flags from a bad get_throttled"
    );

    // Every bad file counts once per pass, under its own source.
    let before = [
        errors(&m, "cooling_device"),
        errors(&m, "throttle_count"),
        errors(&m, "rpi_firmware"),
    ];
    wait_for("errors to keep counting", || {
        let m = server.metrics();
        errors(&m, "cooling_device") >= before[0] + 8.0
            && errors(&m, "throttle_count") >= before[1] + 4.0
            && errors(&m, "rpi_firmware") >= before[2] + 2.0
    });
    assert_eq!(errors(&server.metrics(), "thermal"), 0.0);

    // A trip that vanishes between scans: counted once, its series gone.
    std::fs::remove_file(sys.thermal().join("thermal_zone0/trip_point_6_temp")).unwrap();
    std::fs::remove_file(sys.thermal().join("thermal_zone0/trip_point_6_type")).unwrap();
    wait_for("the vanished trip", || {
        let m = server.metrics();
        errors(&m, "trip_point") == 5.0 && m.family("thermal_zone_trip_point_celsius").len() == 2
    });
    assert_eq!(
        server.metrics().value("cpu_temperature_trip_ratio", &[]),
        Some(58.426 / 90.0)
    );

    // Not hex at all, then mended.
    sys.write(firmware, "throttled\n");
    std::thread::sleep(Duration::from_millis(200));
    assert!(server.metrics().family("rpi_throttled").is_empty());
    sys.write(firmware, "50005\n");
    wait_for("the mended flags", || {
        server
            .metrics()
            .value("rpi_throttled", &[("flag", "throttled"), ("when", "now")])
            == Some(1.0)
    });
    let m = server.metrics();
    assert_eq!(
        errors(&m, "trip_point"),
        5.0,
        "faults already reported are not counted again"
    );
    assert_eq!(m.text("cpu_temperature_celsius", &[]), Some("58.426"));
}

// ---------------------------------------------------------------------------
// A fake sysfs tree under the temporary directory.
// ---------------------------------------------------------------------------

struct FakeSys {
    dir: TestDir,
}

impl FakeSys {
    fn new(tag: &str) -> FakeSys {
        let dir = TestDir::new(&format!("sensors-{tag}"));
        std::fs::create_dir_all(dir.path().join("class/thermal")).unwrap();
        std::fs::create_dir_all(dir.path().join("class/hwmon")).unwrap();
        FakeSys { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn thermal(&self) -> PathBuf {
        self.root().join("class/thermal")
    }

    fn hwmon(&self) -> PathBuf {
        self.root().join("class/hwmon")
    }

    /// A configuration reading this tree; times in milliseconds.
    fn config(&self, source: SourceChoice, interval_ms: u64, read_timeout_ms: u64) -> TemperatureConfig {
        TemperatureConfig {
            source,
            sampler: SamplerConfig {
                thermal_root: self.thermal(),
                hwmon_root: self.hwmon(),
                devices_root: self.root().join("devices"),
                interval: Duration::from_millis(interval_ms),
                read_timeout: Duration::from_millis(read_timeout_ms),
            },
            ..TemperatureConfig::default()
        }
    }

    /// Writes `text` in place (same inode, as sysfs values change).
    fn write(&self, relative: &str, text: &str) {
        self.dir.write(relative, text);
    }

    /// A zone with its `policy`, which node_exporter insists on.
    fn zone(&self, n: u32, ty: &str, temp: &str) {
        self.write(&format!("class/thermal/thermal_zone{n}/type"), &format!("{ty}\n"));
        self.write(&format!("class/thermal/thermal_zone{n}/policy"), "step_wise\n");
        self.zone_temp(n, temp);
    }

    fn zone_temp(&self, n: u32, temp: &str) {
        self.write(&format!("class/thermal/thermal_zone{n}/temp"), temp);
    }

    fn chip(&self, n: u32, name: Option<&str>) {
        std::fs::create_dir_all(self.hwmon().join(format!("hwmon{n}"))).unwrap();
        if let Some(name) = name {
            self.write(&format!("class/hwmon/hwmon{n}/name"), &format!("{name}\n"));
        }
    }

    fn sensor(&self, chip: u32, n: u32, input: &str, label: Option<&str>) {
        self.write(&format!("class/hwmon/hwmon{chip}/temp{n}_input"), input);
        if let Some(label) = label {
            self.write(&format!("class/hwmon/hwmon{chip}/temp{n}_label"), &format!("{label}\n"));
        }
    }

    /// `hwmonN/device` pointing at `ROOT/target`, as on a real system.
    fn device_link(&self, chip: u32, target: &str) {
        std::fs::create_dir_all(self.root().join(target)).unwrap();
        std::os::unix::fs::symlink(
            Path::new("../../..").join(target),
            self.hwmon().join(format!("hwmon{chip}/device")),
        )
        .unwrap();
    }
}

// ---------------------------------------------------------------------------
// The server in-process, with the configured temperature source.
// ---------------------------------------------------------------------------

struct Serving {
    setup: TemperatureSetup,
    server: TestServer,
}

fn serve(config: &TemperatureConfig) -> Serving {
    let setup = build_source(config).expect("temperature source");
    let (source, collectors) = (setup.source.clone(), setup.collectors.clone());
    let server = TestServer::start_app(2, |shutdown| App::with_collectors(source, collectors, shutdown), |_| {});
    Serving { setup, server }
}

impl Serving {
    fn get(&self, path: &str) -> (u16, String) {
        let response = self.server.connect().get(path);
        (response.status, response.text().to_string())
    }

    fn metrics(&self) -> Metrics {
        let (status, body) = self.get("/metrics");
        assert_eq!(status, 200);
        Metrics::parse(&body)
    }
}

// ---------------------------------------------------------------------------
// node_exporter as a reference.
// ---------------------------------------------------------------------------

/// Debian's binary, or the one `NODE_EXPORTER` names; `None` skips the cross-check.
fn node_exporter() -> Option<PathBuf> {
    let path = std::env::var_os("NODE_EXPORTER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/prometheus-node-exporter"));
    path.exists().then_some(path)
}

struct NodeExporter {
    /// Killed when the reference goes.
    _child: KillOnDrop,
    addr: SocketAddr,
}

impl NodeExporter {
    fn start(binary: &Path, sysfs: &Path) -> NodeExporter {
        let addr = SocketAddr::from(([127, 0, 0, 1], common::free_port()));
        let child = Command::new(binary)
            .arg(format!("--path.sysfs={}", sysfs.display()))
            .arg(format!("--web.listen-address={addr}"))
            .args([
                "--collector.disable-defaults",
                "--collector.thermal_zone",
                "--collector.hwmon",
                "--collector.cpu",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node_exporter");
        let exporter = NodeExporter {
            _child: KillOnDrop(child),
            addr,
        };
        wait_for("node_exporter to listen", || {
            std::net::TcpStream::connect(exporter.addr).is_ok()
        });
        exporter
    }

    fn metrics(&self) -> Metrics {
        let (status, body) = http10_get(self.addr, "/metrics").expect("node_exporter answers");
        let body = String::from_utf8(body).expect("utf-8");
        assert_eq!(status, 200, "{body}");
        assert!(
            body.contains("node_scrape_collector_success{collector=\"thermal_zone\"} 1"),
            "{body}"
        );
        for collector in ["hwmon", "cpu"] {
            let success = format!("node_scrape_collector_success{{collector=\"{collector}\"}} 1");
            assert!(body.contains(&success), "{body}");
        }
        Metrics::parse(&body)
    }
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
