//! The whole command line on any arguments (NUL separates them): every flag
//! a user types, `--listen` addresses, durations, selectors and the
//! `loadgen` subcommand's flags included. Never a panic, and whatever
//! parses turns into a configuration without one.
#![no_main]

use custom_metrics_app::config::{Cli, Command};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let args = std::iter::once("custom-metrics-app").chain(text.split('\0'));
    let Ok(cli) = <Cli as clap::Parser>::try_parse_from(args) else {
        return;
    };
    match &cli.command {
        Some(Command::Loadgen(args)) => {
            let _ = args.url.host_header();
        }
        None => {
            let _ = cli.server_config();
            let _ = cli.temperature_config();
        }
    }
});
