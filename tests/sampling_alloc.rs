//! Proves the sensor side allocates nothing in steady state: a counting
//! global allocator watches the whole process while sampling passes read a
//! fake tree (a hanging sensor, a missing file and garbage included) and while the
//! sensor families are encoded as a scrape would.

use std::sync::Arc;
use std::time::Duration;

use custom_metrics_app::internals::temperature::sysfs::{
    Sampler, SamplerConfig, Selection, SensorKind, ThermalSelector, RESIDENT_READERS,
};
use custom_metrics_app::internals::temperature::sysfs::{SensorTemperatures, SensorUp};
use custom_metrics_app::metrics::encoding::text;
use custom_metrics_app::metrics::Registry;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
#[path = "common/fake_sysfs.rs"]
mod fake_sysfs;

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

    let sampler = Sampler::new(SamplerConfig {
        thermal_root: dir.path().join("thermal"),
        hwmon_root: dir.path().join("hwmon"),
        interval: Duration::from_secs(1),
        // Only the first pass waits this out (for the hung read, which is not
        // queued again while it hangs); a generous deadline keeps a slow
        // machine's ordinary reads from counting as timed out.
        read_timeout: Duration::from_millis(500),
        ..SamplerConfig::default()
    });
    sampler.select(Selection::Thermal(ThermalSelector::Max));
    let output = sampler.output();
    let mut registry = Registry::new();
    registry
        .register(Arc::new(SensorTemperatures::new(SensorKind::Thermal, output.clone())))
        .unwrap();
    registry
        .register(Arc::new(SensorTemperatures::new(SensorKind::Hwmon, output.clone())))
        .unwrap();
    registry.register(Arc::new(SensorUp::new(output.clone()))).unwrap();
    registry.register(output.errors.clone()).unwrap();
    let mut body = Vec::with_capacity(64 * 1024);

    // Warm-up: the hung read is written off (one replacement thread), thread
    // locals and lock tables settle.
    for _ in 0..10 {
        sampler.run_pass();
        body.clear();
        text::encode(&registry, &mut body);
    }
    assert_eq!(sampler.reader_threads(), RESIDENT_READERS + 1);
    assert_eq!(output.selected_celsius(), Some(47.777));

    let before = allocations();
    for _ in 0..200 {
        let report = sampler.run_pass();
        assert_eq!(
            (report.queued, report.timed_out),
            (22, 1),
            "every sensor but the hung one"
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
}
