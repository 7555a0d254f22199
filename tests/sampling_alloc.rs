//! Proves the sensor side allocates nothing in steady state: a counting
//! global allocator watches the whole process while sampling passes read a
//! fake tree (a hanging sensor, a missing file and garbage included; trip
//! points, cooling devices, Intel throttle counters and the Raspberry Pi
//! firmware's flags besides the temperatures) and while the sensor families
//! are encoded as a scrape would.

use std::time::Duration;

use custom_metrics_app::internals::temperature::sysfs::{
    self, Sampler, SamplerConfig, Selection, ThermalSelector, RESIDENT_READERS,
};
use custom_metrics_app::metrics::encoding::text;
use custom_metrics_app::metrics::Registry;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{allocations, CountingAllocator};
use fake_sysfs::TestDir;

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// The only test in this binary, so nothing else allocates while it measures.
#[test]
fn sampling_and_scraping_allocate_nothing_in_steady_state() {
    let dir = TestDir::new("sampling-alloc");
    let write = |rel: &str, text: &str| {
        dir.write(rel, text);
    };
    for n in 0..8 {
        write(&format!("thermal/thermal_zone{n}/type"), "acpitz\n");
        write(
            &format!("thermal/thermal_zone{n}/temp"),
            &format!("{}\n", 40_000 + n * 1_111),
        );
    }
    write("thermal/thermal_zone8/type", "x86_pkg_temp\n");
    dir.fifo("thermal/thermal_zone8/temp"); // hangs for good
    write("thermal/thermal_zone9/type", "acpitz\n"); // no temp: a failed open(2) every pass
    for chip in 0..3 {
        write(&format!("hwmon/hwmon{chip}/name"), "coretemp\n");
        for n in 1..=4 {
            write(
                &format!("hwmon/hwmon{chip}/temp{n}_input"),
                &format!("{}\n", 30_000 + n * 500),
            );
            write(&format!("hwmon/hwmon{chip}/temp{n}_label"), &format!("Core {n}\n"));
        }
    }
    write("hwmon/hwmon0/temp5_input", "garbage\n");
    for n in 0..8 {
        let zone = format!("thermal/thermal_zone{n}");
        write(&format!("{zone}/trip_point_0_temp"), "90000\n");
        write(&format!("{zone}/trip_point_0_type"), "critical\n");
        write(&format!("{zone}/trip_point_1_temp"), "75000\n");
        write(&format!("{zone}/trip_point_1_type"), "passive\n");
        write(&format!("{zone}/trip_point_1_hyst"), "2000\n");
    }
    write("thermal/thermal_zone0/trip_point_2_temp", "garbage\n");
    write("thermal/thermal_zone0/trip_point_2_type", "hot\n");
    for (n, (kind, cur)) in [("Processor", "1"), ("intel_powerclamp", "-1"), ("pwm-fan", "garbage")]
        .into_iter()
        .enumerate()
    {
        write(&format!("thermal/cooling_device{n}/type"), &format!("{kind}\n"));
        write(&format!("thermal/cooling_device{n}/cur_state"), &format!("{cur}\n"));
        write(&format!("thermal/cooling_device{n}/max_state"), "3\n");
    }
    for n in 0..4 {
        let cpu = format!("devices/system/cpu/cpu{n}");
        write(&format!("{cpu}/topology/physical_package_id"), "0\n");
        write(&format!("{cpu}/topology/core_id"), &format!("{n}\n"));
        write(&format!("{cpu}/thermal_throttle/core_throttle_count"), "12\n");
        write(&format!("{cpu}/thermal_throttle/package_throttle_count"), "34\n");
    }
    write("devices/platform/soc/soc:firmware/get_throttled", "50005\n");
    write("hwmon/hwmon3/name", "rpi_volt\n");
    write("hwmon/hwmon3/in0_lcrit_alarm", "1\n");

    let sampler = Sampler::new(SamplerConfig {
        thermal_root: dir.path().join("thermal"),
        hwmon_root: dir.path().join("hwmon"),
        devices_root: dir.path().join("devices"),
        interval: Duration::from_secs(1),
        // Only the first pass waits this out (for the hung read, which is not
        // queued again while it hangs); a generous deadline keeps a slow
        // machine's ordinary reads from counting as timed out.
        read_timeout: Duration::from_millis(500),
    });
    sampler.select(Selection::Thermal(ThermalSelector::Max));
    let output = sampler.output();
    let mut registry = Registry::new();
    let collectors = sysfs::collectors(&output);
    for collector in collectors {
        registry.register(collector).unwrap();
    }
    let mut body = Vec::with_capacity(64 * 1024);

    // Warm-up: the hung read is written off (one replacement thread), thread
    // locals and lock tables settle. A replacement reader spawned here may
    // not run until later on a loaded machine, and its start allocates (a
    // thread's first steps, its thread locals): so warm up until 20 passes
    // in a row allocate nothing, 10 s at most. A pass that allocates every
    // time never gets there, and the measurement below fails on it.
    let until = std::time::Instant::now() + Duration::from_secs(10);
    let mut quiet = 0;
    while quiet < 20 && std::time::Instant::now() < until {
        let before = allocations();
        sampler.run_pass();
        body.clear();
        text::encode(&registry, &mut body);
        quiet = if allocations() == before { quiet + 1 } else { 0 };
    }
    assert_eq!(sampler.reader_threads(), RESIDENT_READERS + 1);
    assert_eq!(output.selected_celsius(), Some(47.777));

    let before = allocations();
    for _ in 0..200 {
        let report = sampler.run_pass();
        assert_eq!(
            (report.queued, report.timed_out),
            (22 + 6 + 4 + 1 + 1 + 1, 1),
            "every file but the hung one: temperatures, cooling states, counters, flags"
        );
    }
    let during_passes = allocations() - before;

    let before = allocations();
    for _ in 0..200 {
        body.clear();
        text::encode(&registry, &mut body);
    }
    let during_scrapes = allocations() - before;

    assert_eq!(during_passes, 0, "allocations in 200 sampling passes");
    assert_eq!(during_scrapes, 0, "allocations in 200 encodings of the sensor families");
    let exposition = String::from_utf8(body).unwrap();
    assert!(exposition.contains("thermal_zone_temperature_celsius{zone=\"thermal_zone7\",type=\"acpitz\"} 47.777\n"));
    assert!(exposition.contains("temperature_sensor_up 1\n"));
    for series in [
        "thermal_zone_trip_point_celsius{zone=\"thermal_zone7\",index=\"1\",type=\"passive\"} 75\n",
        "thermal_zone_trip_point_hysteresis_celsius{zone=\"thermal_zone7\",index=\"1\",type=\"passive\"} 2\n",
        "cooling_device_cur_state{name=\"1\",type=\"intel_powerclamp\"} -1\n",
        "cpu_core_throttles_total{core=\"3\",package=\"0\"} 12\n",
        "cpu_package_throttles_total{package=\"0\"} 34\n",
        "rpi_throttled{flag=\"throttled\",when=\"now\"} 1\n",
        "rpi_under_voltage_alarm 1\n",
        "cpu_throttled 1\n",
    ] {
        assert!(exposition.contains(series), "{series} in {exposition}");
    }
    // The hottest zone (thermal_zone7, 47.777 °C) against its passive trip.
    assert!(exposition.contains(&format!("cpu_temperature_trip_ratio {}\n", 47.777 / 75.0)));
}
