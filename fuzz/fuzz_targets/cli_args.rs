//! The whole command line on any arguments (NUL separates them): every flag
//! a user types, `--listen` addresses, durations, selectors and the flags of
//! the `loadgen`, `check` and `doctor` subcommands included. Never a panic,
//! and whatever parses turns into a configuration without one.
#![no_main]

use std::cell::RefCell;

use clap::{CommandFactory, FromArgMatches};
use custom_metrics_app::internals::config::{Cli, Command};
use libfuzzer_sys::fuzz_target;

thread_local! {
    /// The command `Cli::try_parse_from` builds, built once: building it is
    /// most of the cost of a parse, and parsing does not change it (the
    /// `_mut` entry point only finishes the build on the first call).
    static COMMAND: RefCell<clap::Command> = RefCell::new(Cli::command());
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let args = std::iter::once("custom-metrics-app").chain(text.split('\0'));
    let matches = COMMAND.with_borrow_mut(|command| command.try_get_matches_from_mut(args));
    let Ok(cli) = matches.and_then(|mut m| Cli::from_arg_matches_mut(&mut m)) else {
        return;
    };
    match &cli.command {
        Some(Command::Loadgen(args)) => {
            let _ = args.url.host_header();
        }
        Some(Command::Check(args)) => {
            let _ = args.url.host_header();
        }
        // Its flags are all parsed by clap above; nothing is derived from them
        // before the checks run (which need a Prometheus).
        Some(Command::Doctor(_)) => {}
        None => {
            let _ = cli.server_config();
            let _ = cli.temperature_config();
        }
    }
});
