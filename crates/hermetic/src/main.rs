//! `hermetic`: the command-line entry point.

#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hermetic",
    version,
    about = "A data service that hosts its tenants' data without being able to access it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with IAM policies offline.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Evaluate the requests of a cases file against its policies and explain each decision.
    Simulate {
        /// A JSON array of cases.
        cases: std::path::PathBuf,
        /// Compare each decision with the case's `expected.response`; exit non-zero on a mismatch.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Policy(PolicyCommand::Simulate { cases, check }) => simulate(&cases, check),
    }
}

fn simulate(path: &std::path::Path, check: bool) -> ExitCode {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let report = match hermetic::simulate::run_cases(&text, check) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: `{}`: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    print!("{}", report.output);
    if check {
        if !report.failures.is_empty() {
            println!();
            println!("mismatches:");
            for f in &report.failures {
                println!("  {f}");
            }
        }
        println!("{} passed, {} failed", report.passed, report.failed);
    }
    if report.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
