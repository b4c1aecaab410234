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
    /// Run the service (IAM, STS, ... on one endpoint).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:4566")]
        listen: std::net::SocketAddr,
        /// Data directory (created on first start).
        #[arg(long, default_value = "hermetic-data")]
        data_dir: std::path::PathBuf,
    },
    /// Manage tenant accounts (operator only).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Work with IAM policies offline.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(clap::Args)]
struct OperatorArgs {
    /// The server's endpoint.
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    endpoint: String,
    /// The server's data directory (where the operator credentials are).
    #[arg(long, default_value = "hermetic-data")]
    data_dir: std::path::PathBuf,
    /// Print the answer as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create a tenant account and print its root access key (shown once).
    Create {
        /// Account name: lowercase letters, digits and hyphens.
        name: String,
        #[command(flatten)]
        operator: OperatorArgs,
    },
    /// List the tenant accounts.
    List {
        #[command(flatten)]
        operator: OperatorArgs,
    },
    /// Suspend an account: its credentials stop working.
    Suspend {
        /// The 12-digit account id.
        account_id: String,
        #[command(flatten)]
        operator: OperatorArgs,
    },
    /// Reactivate a suspended account.
    Reactivate {
        /// The 12-digit account id.
        account_id: String,
        #[command(flatten)]
        operator: OperatorArgs,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Check policies like IAM Access Analyzer's ValidatePolicy; exits non-zero on an ERROR.
    Validate {
        /// Policy JSON files.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// The policy type: identity, resource, scp, rcp, boundary or trust.
        #[arg(long = "type", default_value = "identity")]
        kind: String,
        /// Print the findings as JSON.
        #[arg(long)]
        json: bool,
    },
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
        Command::Serve { listen, data_dir } => {
            let config = server::Config { listen, data_dir, ..server::Config::default() };
            match server::serve(config) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Account(cmd) => account(cmd),
        Command::Policy(PolicyCommand::Simulate { cases, check }) => simulate(&cases, check),
        Command::Policy(PolicyCommand::Validate { files, kind, json }) => {
            validate(&files, &kind, json)
        }
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

fn validate(files: &[std::path::PathBuf], kind: &str, json: bool) -> ExitCode {
    let kind: policy::validate::PolicyKind = match kind.parse() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut reports = Vec::new();
    for path in files {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", path.display());
                return ExitCode::from(2);
            }
        };
        reports.push(hermetic::validate::validate_file(&path.display().to_string(), &text, kind));
    }
    if json {
        let doc = hermetic::validate::render_json(&reports);
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print!("{}", hermetic::validate::render_text(&reports));
    }
    if reports.iter().any(hermetic::validate::FileReport::has_error) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn account(cmd: AccountCommand) -> ExitCode {
    use serde_json::json;
    let (operation, input, operator) = match cmd {
        AccountCommand::Create { name, operator } => {
            ("CreateAccount", json!({ "AccountName": name }), operator)
        }
        AccountCommand::List { operator } => ("ListAccounts", json!({}), operator),
        AccountCommand::Suspend { account_id, operator } => {
            ("SuspendAccount", json!({ "AccountId": account_id }), operator)
        }
        AccountCommand::Reactivate { account_id, operator } => {
            ("ReactivateAccount", json!({ "AccountId": account_id }), operator)
        }
    };
    match hermetic::client::call(&operator.endpoint, &operator.data_dir, operation, &input) {
        Ok(answer) => {
            let field =
                |k: &str| answer.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            if operator.json && operation == "CreateAccount" {
                // Exactly these three keys, in this order.
                let q = |k: &str| serde_json::Value::String(field(k));
                println!(
                    "{{\"AccountId\": {}, \"AccessKeyId\": {}, \"SecretAccessKey\": {}}}",
                    q("AccountId"),
                    q("AccessKeyId"),
                    q("SecretAccessKey")
                );
            } else if operator.json || operation != "CreateAccount" {
                println!("{answer}");
            } else {
                println!("account {} created", field("AccountId"));
                println!("root access key id:     {}", field("AccessKeyId"));
                println!("root secret access key: {}", field("SecretAccessKey"));
                println!("(the secret is shown only now; store it safely)");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
