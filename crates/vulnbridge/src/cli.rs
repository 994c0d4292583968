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
#[expect(clippy::large_enum_variant, reason = "parsed once per process; boxing buys nothing")]
pub enum Command {
    /// Run the server: API, web UI, webhooks, and background workers.
    Serve(ServeArgs),
    /// Run only background workers (for extra replicas on PostgreSQL).
    Worker(WorkerArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Print the OpenAPI document of the REST API.
    Openapi,
    /// Import (or reimport) a scanner's report file.
    Import(ImportArgs),
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
#[command(after_help = "Examples:\n  vulnbridge import --scan-type 'Semgrep JSON Report' --product Shop --engagement CI semgrep.json\n  vulnbridge import --scan-type SARIF --product Shop --engagement CI --reimport results.sarif\n  vulnbridge import --list-scan-types")]
pub struct ImportArgs {
    /// The report format, as DefectDojo names it (`vulnbridge import --list-scan-types`).
    #[arg(long, value_name = "TYPE")]
    pub scan_type: Option<String>,
    /// The product (created if missing, unless --no-create).
    #[arg(long, value_name = "NAME")]
    pub product: Option<String>,
    /// The engagement within the product (created if missing, unless --no-create).
    #[arg(long, value_name = "NAME")]
    pub engagement: Option<String>,
    /// The product type of a product created by this import.
    #[arg(long, value_name = "NAME")]
    pub product_type: Option<String>,
    /// The test's title (default: the scan type); a reimport finds its test by it.
    #[arg(long, value_name = "TITLE")]
    pub test: Option<String>,
    /// An engagement by id (instead of --product/--engagement).
    #[arg(long, value_name = "ID")]
    pub engagement_id: Option<i64>,
    /// Reimport into this test id.
    #[arg(long, value_name = "ID")]
    pub test_id: Option<i64>,
    /// Into the existing test: match, close what is gone, reactivate what is back.
    #[arg(long)]
    pub reimport: bool,
    /// Close findings the report no longer lists (default for --reimport).
    #[arg(long, conflicts_with = "keep_old_findings")]
    pub close_old_findings: bool,
    /// Keep findings the report no longer lists open, even on --reimport.
    #[arg(long)]
    pub keep_old_findings: bool,
    /// Skip findings below this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = super::commands::import::parse_severity)]
    pub minimum_severity: Option<domain::Severity>,
    /// Group new findings: component_name, component_name+component_version, file_path,
    /// finding_title, vuln_id_from_tool, vulnerability_id.
    #[arg(long, value_name = "BY", value_parser = super::commands::import::parse_group_by)]
    pub group_by: Option<domain::GroupBy>,
    /// Where duplicates are looked for: test, engagement or product (default).
    #[arg(long, value_name = "SCOPE", value_parser = super::commands::import::parse_scope)]
    pub dedup_scope: Option<domain::DedupScope>,
    /// The service the findings belong to.
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// Tags for the test (repeat or comma-separate).
    #[arg(long = "tag", value_name = "TAG", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Put the tags on the new findings too.
    #[arg(long)]
    pub tag_findings: bool,
    /// Leave closed findings closed when reported again.
    #[arg(long)]
    pub do_not_reactivate: bool,
    /// Fail instead of creating a missing product or engagement.
    #[arg(long)]
    pub no_create: bool,
    /// Act as this user (their roles apply); default: a local administrator.
    #[arg(long = "as", value_name = "USER")]
    pub as_user: Option<String>,
    /// List the supported scan types and exit.
    #[arg(long)]
    pub list_scan_types: bool,
    /// The report file.
    #[arg(value_name = "FILE")]
    pub file: Option<std::path::PathBuf>,
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
