//! Times one sensor sampling pass: the work the sampler thread does every
//! `--sensor-interval`.
//!
//! ```text
//! cargo run --release --example sampling_pass                  # fake trees, 1 and 40 sensors
//! cargo run --release --example sampling_pass -- /sys/class/thermal /sys/class/hwmon
//! ```
//!
//! On fake trees a read is an open(2), pread(2) and close(2) of a small
//! regular file, so the numbers are the sampler's own cost (queueing, waking
//! a reader, the three system calls, parse, bookkeeping). On a real node each read also runs the driver's `show`
//! callback, whose cost is the driver's (an MSR read, an ACPI method, an I2C
//! transfer); the sampler adds the same overhead on top.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use custom_metrics_app::internals::temperature::sysfs::{
    Sampler, SamplerConfig, Selection, SensorKind, ThermalSelector,
};

const PASSES: usize = 5_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [thermal, hwmon] => measure("given roots", Path::new(thermal), Path::new(hwmon)),
        [] => {
            for (zones, chips, per_chip) in [(1, 0, 0), (8, 4, 8)] {
                let root = fake_tree(zones, chips, per_chip);
                let what = format!("fake tree, {zones} zones + {chips}x{per_chip} hwmon sensors");
                measure(&what, &root.join("thermal"), &root.join("hwmon"));
                let _ = std::fs::remove_dir_all(&root);
            }
        }
        _ => {
            eprintln!("usage: sampling_pass [THERMAL_ROOT HWMON_ROOT]");
            std::process::exit(2);
        }
    }
}

fn measure(what: &str, thermal: &Path, hwmon: &Path) {
    let sampler = Sampler::new(SamplerConfig {
        thermal_root: thermal.to_path_buf(),
        hwmon_root: hwmon.to_path_buf(),
        // Beside the thermal root: /sys/devices for /sys/class/thermal, none in a fake tree.
        devices_root: thermal.join("../../devices"),
        ..SamplerConfig::every(Duration::from_secs(1))
    });
    sampler.select(Selection::Thermal(ThermalSelector::Max));
    let ((zones, zones_up), (chips, chips_up)) =
        (sampler.counts(SensorKind::Thermal), sampler.counts(SensorKind::Hwmon));
    let sensors = zones + chips;
    for _ in 0..200 {
        sampler.run_pass();
    }
    let mut times: Vec<Duration> = (0..PASSES)
        .map(|_| {
            let t = Instant::now();
            sampler.run_pass();
            t.elapsed()
        })
        .collect();
    times.sort();
    let total: Duration = times.iter().sum();
    let mean = total / PASSES as u32;
    let pct = |p: usize| times[(PASSES * p / 100).min(PASSES - 1)];
    println!(
        "{what}: {sensors} sensors ({} readable), {PASSES} passes: mean {:.1} us, median {:.1} us, p99 {:.1} us per pass; {:.2} us per sensor (mean)",
        zones_up + chips_up,
        micros(mean),
        micros(pct(50)),
        micros(pct(99)),
        micros(mean) / sensors.max(1) as f64,
    );
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn fake_tree(zones: usize, chips: usize, per_chip: usize) -> PathBuf {
    let root = std::env::temp_dir().join(format!("cma-sampling-pass-{}-{zones}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let write = |rel: String, text: String| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    for z in 0..zones {
        write(format!("thermal/thermal_zone{z}/type"), "x86_pkg_temp\n".into());
        write(
            format!("thermal/thermal_zone{z}/temp"),
            format!("{}\n", 40_000 + z * 250),
        );
    }
    for c in 0..chips {
        write(format!("hwmon/hwmon{c}/name"), "coretemp\n".into());
        for s in 1..=per_chip {
            write(
                format!("hwmon/hwmon{c}/temp{s}_input"),
                format!("{}\n", 35_000 + s * 125),
            );
            write(format!("hwmon/hwmon{c}/temp{s}_label"), format!("Core {s}\n"));
        }
    }
    root
}
