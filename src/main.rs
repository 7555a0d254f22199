//! The `custom-metrics-app` binary: all of it lives in the library
//! (`custom_metrics_app::main`, `src/run.rs`).

fn main() {
    custom_metrics_app::main();
}
