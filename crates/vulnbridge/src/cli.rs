use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Self-hosted vulnerability management: findings from scanners, de-duplicated, in two-way
/// sync with the issue trackers developers use.
#[derive(Debug, Parser)]
#[command(name = "vulnbridge", version, propagate_version = true)]
pub struct Cli {
    /// Configuration file (default: ./vulnbridge.toml when present).
    #[arg(long, global = true, env = "VULNBRIDGE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: API, web UI, webhooks, and background workers.
    Serve(ServeArgs),
    /// Run only background workers (for extra replicas on PostgreSQL).
    Worker(WorkerArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Print the OpenAPI document of the REST API.
    Openapi,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Try vulnbridge: a fresh data directory with sample products and findings, served locally.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides `bind`).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Background jobs run at once in this process (0: none).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Jobs run at once.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; prints a generated password unless one is given on stdin.
    Create {
        name: String,
        /// Make the user an administrator (shorthand for `--role admin`).
        #[arg(long, conflicts_with = "role")]
        admin: bool,
        /// Global role: reader, writer, maintainer or admin.
        #[arg(long, value_parser = parse_role)]
        role: Option<domain::Role>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Set a user's password (generated unless given on stdin).
    SetPassword {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print it (it is shown only once).
    Create {
        user: String,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Days until it expires (default: never).
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<u32>,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo keeps its data; recreated on every run.
    #[arg(long, default_value = "./vulnbridge-demo", value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub bind: String,
    /// Seed the data and exit without serving.
    #[arg(long)]
    pub no_serve: bool,
}

fn parse_role(s: &str) -> Result<domain::Role, String> {
    domain::Role::parse(s).ok_or_else(|| format!("unknown role '{s}'; use reader, writer, maintainer or admin"))
}
