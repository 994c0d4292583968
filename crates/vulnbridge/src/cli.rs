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
    /// Manage Integration Instances (connections to trackers).
    #[command(subcommand)]
    Instance(InstanceCommand),
    /// Manage Issue Tracker Mappings (where an instance's tickets go, how fields map).
    #[command(subcommand)]
    Mapping(MappingCommand),
    /// Manage Issue Tracker Assignments (products and engagements pushing through a mapping).
    #[command(subcommand)]
    Assignment(AssignmentCommand),
    /// Push findings and groups to their trackers now ("Push to Integrators").
    Push(PushArgs),
    /// Manage connectors (scanners pulled through their APIs) and run Discover or Sync.
    #[command(subcommand)]
    Connector(ConnectorCommand),
    /// The Records connectors discovered: list, map to a product, ignore, restore, delete.
    #[command(subcommand)]
    Record(RecordCommand),
    /// Run one tracker's or scanner's simulator alone, for trying vulnbridge by hand.
    Simulate(SimulateArgs),
}

#[derive(Debug, Subcommand)]
pub enum InstanceCommand {
    /// Add an instance. The token is read from standard input or an environment variable,
    /// never from the command line (where other users of the machine could see it).
    #[command(after_help = "Examples:\n  echo \"$GITHUB_TOKEN\" | vulnbridge instance add --vendor github --label 'GitHub acme' --location https://github.com/acme --token-stdin\n  echo \"$JIRA_API_TOKEN\" | vulnbridge instance add --vendor jira --label Jira --location https://acme.atlassian.net --username me@acme.com --token-stdin\n  vulnbridge instance add --vendor servicenow --label ServiceNow --location https://acme.service-now.com --oauth-client-id ID --oauth-client-secret-env SN_SECRET --oauth-refresh-token-env SN_REFRESH")]
    Add {
        /// github, gitlab, jira, azure-devops or servicenow.
        #[arg(long, value_parser = parse_vendor)]
        vendor: domain::tracker::Vendor,
        #[arg(long)]
        label: String,
        /// GitHub: your user or organisation URL; GitLab: the server URL.
        #[arg(long)]
        location: String,
        /// Read the token (with --username: the password or API token) from standard input.
        #[arg(long, conflicts_with = "token_env")]
        token_stdin: bool,
        /// Read the token (with --username: the password or API token) from this variable.
        #[arg(long, value_name = "VAR")]
        token_env: Option<String>,
        /// Sign in as this user with a password or API token (Jira Cloud: your e-mail and an API
        /// token; ServiceNow: a user and password).
        #[arg(long, value_name = "NAME", conflicts_with = "oauth_client_id")]
        username: Option<String>,
        /// OAuth 2.0 (ServiceNow, Jira): the client id; the client secret and refresh token are
        /// read from the variables named by --oauth-client-secret-env and --oauth-refresh-token-env.
        #[arg(long, value_name = "ID", requires_all = ["oauth_client_secret_env", "oauth_refresh_token_env"])]
        oauth_client_id: Option<String>,
        #[arg(long, value_name = "VAR")]
        oauth_client_secret_env: Option<String>,
        #[arg(long, value_name = "VAR")]
        oauth_refresh_token_env: Option<String>,
        /// The OAuth token endpoint, when not the vendor's usual one.
        #[arg(long, value_name = "URL")]
        oauth_token_url: Option<String>,
        /// Replace a documented rate limit: NAME=LIMIT/SECONDS (e.g. content-hour=1000/3600).
        #[arg(long = "rate-limit", value_name = "NAME=LIMIT/SECONDS", value_parser = parse_rate_limit)]
        rate_limits: Vec<domain::tracker::RateLimitOverride>,
        /// Create tickets one request each, even where the tracker has a bulk API.
        #[arg(long)]
        no_bulk: bool,
    },
    /// List instances.
    List,
    /// Check an instance's connection (and one of its mappings).
    Check {
        /// The instance's label or id.
        instance: String,
        /// Also check this mapping (label or id).
        #[arg(long)]
        mapping: Option<String>,
    },
    /// Show an instance's push queue: waiting pushes, a tracker's block, the expected finish.
    Queue { instance: String },
    /// Delete an instance with its mappings and assignments (tickets in the tracker stay).
    Remove { instance: String },
}

#[derive(Debug, Subcommand)]
pub enum MappingCommand {
    /// Add a mapping; anything not given takes the vendor's defaults.
    #[command(after_help = "Examples:\n  vulnbridge mapping add --instance 'GitHub acme' --label storefront --repository storefront --project-number 1\n  vulnbridge mapping add --instance 'GitLab' --label mobile --project acme/mobile-backend --severity info=1,low=2,medium=3,high=4,critical=5")]
    Add(Box<MappingArgs>),
    /// List mappings with their total errors.
    List {
        #[arg(long)]
        instance: Option<String>,
    },
    /// Show a mapping's error table.
    Errors { mapping: String },
    /// Queue a mapping's failed pushes again (all, or one error by id).
    Retry {
        mapping: String,
        #[arg(long)]
        error: Option<i64>,
    },
    /// Register (or refresh) the tracker's webhook for a mapping.
    Webhook { mapping: String },
    /// Delete a mapping with its assignments (tickets in the tracker stay).
    Remove { mapping: String },
}

#[derive(Debug, Args)]
pub struct MappingArgs {
    /// The instance's label or id.
    #[arg(long)]
    pub instance: String,
    #[arg(long)]
    pub label: String,
    /// GitHub: the repository name (without the owner).
    #[arg(long, conflicts_with = "project")]
    pub repository: Option<String>,
    /// GitHub: the project (v2) number whose Priority and Status fields are set.
    #[arg(long, requires = "repository")]
    pub project_number: Option<u32>,
    /// GitLab: the project path (group/project) or id; Jira: the project key; Azure DevOps:
    /// the project's name.
    #[arg(long)]
    pub project: Option<String>,
    /// Jira: the issue type (default Bug).
    #[arg(long)]
    pub issue_type: Option<String>,
    /// Jira: product (default) or security team space.
    #[arg(long, value_parser = ["product", "security"])]
    pub space: Option<String>,
    /// Jira: a component every issue gets (repeat).
    #[arg(long = "component", value_name = "NAME")]
    pub components: Vec<String>,
    /// Jira: leave the priority alone (no severity → priority mapping).
    #[arg(long)]
    pub no_priority: bool,
    /// Jira: delete the issue of a finding marked false positive (permanent!).
    #[arg(long)]
    pub delete_rejected: bool,
    /// Jira product space: an issue done closes its finding (and so its security issue).
    #[arg(long)]
    pub close_security_issue_when_done: bool,
    /// Jira: comments come back as notes, notes go out as comments.
    #[arg(long)]
    pub sync_comments: bool,
    /// Azure DevOps: the work item type (default Bug).
    #[arg(long)]
    pub work_item_type: Option<String>,
    /// Azure DevOps: the area path.
    #[arg(long)]
    pub area_path: Option<String>,
    /// ServiceNow: the table (incident by default; any table extending task).
    #[arg(long)]
    pub table: Option<String>,
    /// ServiceNow: the assignment group.
    #[arg(long)]
    pub assignment_group: Option<String>,
    /// Days to fix per severity, for due dates: critical=7,high=30,…
    #[arg(long, value_name = "SEVERITY=DAYS,…")]
    pub due_days: Option<String>,
    /// Severity values: info=…,low=…,medium=…,high=…,critical=… (and field=… for the field).
    #[arg(long, value_name = "KEY=VALUE,…", conflicts_with = "impact_urgency")]
    pub severity: Option<String>,
    /// ServiceNow: the Impact + Urgency preset (Critical 1/1, High 1/2, Medium 2/2, Low 3/2).
    #[arg(long)]
    pub impact_urgency: bool,
    /// Status values: active=…,closed=…,false_positive=…,risk_accepted=…,in_progress=…,awaiting_validation=… (and field=…).
    #[arg(long, value_name = "KEY=VALUE,…")]
    pub status: Option<String>,
    /// The ticket title's template (minijinja).
    #[arg(long)]
    pub title_template: Option<String>,
    /// A label every ticket carries (repeat).
    #[arg(long = "ticket-label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// What a finding becomes when its ticket is closed in the tracker: closed or awaiting_validation.
    #[arg(long, value_parser = parse_status)]
    pub inbound_closed: Option<domain::Status>,
    /// Don't register the tracker's webhook now.
    #[arg(long)]
    pub no_webhook: bool,
}

#[derive(Debug, Subcommand)]
pub enum AssignmentCommand {
    /// Assign a product (or one engagement) to a mapping.
    Add {
        /// The mapping's label or id.
        #[arg(long)]
        mapping: String,
        /// The product's name.
        #[arg(long)]
        product: String,
        /// Only this engagement of the product (overrides the product's assignment).
        #[arg(long)]
        engagement: Option<String>,
        /// explicit, link_new, update_existing or link_new_and_update.
        #[arg(long, default_value = "explicit", value_parser = parse_push_mode)]
        mode: domain::tracker::PushMode,
        /// Link automatically only findings at least this severe.
        #[arg(long, value_parser = super::commands::import::parse_severity)]
        minimum_severity: Option<domain::Severity>,
        /// Link automatically only open findings.
        #[arg(long)]
        active_only: bool,
    },
    /// List assignments.
    List {
        #[arg(long)]
        product: Option<String>,
    },
    /// Remove an assignment by id.
    Remove { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum ConnectorCommand {
    /// Add a connector. Secrets are read from environment variables, never the command line.
    #[command(after_help = "Example:\n  SEMGREP_TOKEN=… vulnbridge connector add --tool semgrep --label Semgrep --location https://semgrep.dev --secret token=SEMGREP_TOKEN --auto-map")]
    Add {
        /// aws_security_hub, burp_suite, checkmarx_one, dependency_track, probely, semgrep,
        /// sonarqube, snyk or tenable.
        #[arg(long, value_parser = parse_tool)]
        tool: domain::connector::Tool,
        #[arg(long)]
        label: String,
        #[arg(long)]
        location: String,
        /// NAME=VAR: the secret NAME is read from the environment variable VAR (repeat).
        #[arg(long = "secret", value_name = "NAME=VAR")]
        secrets: Vec<String>,
        /// Map new Records to a Product of their name automatically.
        #[arg(long)]
        auto_map: bool,
        /// Minutes between scheduled Discovers (0: by hand only).
        #[arg(long, default_value_t = 1440)]
        discover_every: u32,
        /// Minutes between scheduled Syncs (0: by hand only).
        #[arg(long, default_value_t = 60)]
        sync_every: u32,
        /// A tool option KEY=VALUE (repeat): organization, branch, regions…
        #[arg(long = "option", value_name = "KEY=VALUE")]
        options: Vec<String>,
    },
    /// List connectors.
    List,
    /// Check a connector's connection.
    Check { connector: String },
    /// Run a Discover now (waits for it; shows what changed).
    Discover { connector: String },
    /// Run a Sync now (waits for it; shows what was imported).
    Sync { connector: String },
    /// The operations log.
    Log { connector: String },
    /// Delete a connector (the findings it imported stay).
    Remove { connector: String },
}

#[derive(Debug, Subcommand)]
pub enum RecordCommand {
    /// A connector's Records.
    List {
        connector: String,
        /// Only Records in this state.
        #[arg(long)]
        state: Option<String>,
    },
    /// Map a Record (by id) to a product (by name).
    Map { id: i64, product: String },
    /// Ignore a Record.
    Ignore { id: i64 },
    /// Restore an ignored Record.
    Restore { id: i64 },
    /// Delete a Record (it comes back at the next Discover while the tool reports it).
    Remove { id: i64 },
}

fn parse_tool(s: &str) -> Result<domain::connector::Tool, String> {
    domain::connector::Tool::parse(s).ok_or_else(|| {
        format!(
            "unknown tool '{s}'; use one of {}",
            domain::connector::Tool::ALL.map(|t| t.as_str()).join(", ")
        )
    })
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  vulnbridge push --finding 17 --finding 18\n  vulnbridge push --product Storefront --open")]
pub struct PushArgs {
    /// A finding to push (repeat).
    #[arg(long = "finding", value_name = "ID")]
    pub findings: Vec<i64>,
    /// A finding group to push (repeat).
    #[arg(long = "group", value_name = "ID")]
    pub groups: Vec<i64>,
    /// Every finding of this product (with --open: only open ones).
    #[arg(long)]
    pub product: Option<String>,
    #[arg(long, requires = "product")]
    pub open: bool,
    /// Only queue the pushes (a running server's workers do them).
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// A tracker (github, gitlab, jira, azure-devops, servicenow) or a scanner
    /// (aws-security-hub, burp-suite, checkmarx-one, dependency-track, probely, semgrep,
    /// sonarqube, snyk, tenable).
    #[arg(value_parser = parse_simulated, value_name = "VENDOR|TOOL")]
    pub what: Simulated,
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub bind: String,
}

/// What `simulate` runs: a tracker's simulator or a scanner's.
#[derive(Clone, Copy, Debug)]
pub enum Simulated {
    Tracker(domain::tracker::Vendor),
    Scanner(domain::connector::Tool),
}

fn parse_simulated(s: &str) -> Result<Simulated, String> {
    if let Some(v) = domain::tracker::Vendor::parse(s) {
        return Ok(Simulated::Tracker(v));
    }
    domain::connector::Tool::parse(s).map(Simulated::Scanner).ok_or_else(|| {
        let tools: Vec<String> = domain::connector::Tool::ALL.iter().map(|t| t.as_str().replace('_', "-")).collect();
        format!("unknown simulator '{s}'; use a tracker (github, gitlab, jira, azure-devops, servicenow) or a scanner ({})", tools.join(", "))
    })
}

fn parse_vendor(s: &str) -> Result<domain::tracker::Vendor, String> {
    domain::tracker::Vendor::parse(s).ok_or_else(|| format!("unknown tracker '{s}'; use github, gitlab, jira, azure_devops or servicenow"))
}

fn parse_push_mode(s: &str) -> Result<domain::tracker::PushMode, String> {
    domain::tracker::PushMode::parse(s).ok_or_else(|| "use explicit, link_new, update_existing or link_new_and_update".to_owned())
}

fn parse_status(s: &str) -> Result<domain::Status, String> {
    domain::Status::parse(s).map_err(|e| e.to_string())
}

fn parse_rate_limit(s: &str) -> Result<domain::tracker::RateLimitOverride, String> {
    let err = || format!("'{s}' is not NAME=LIMIT/SECONDS (e.g. content-hour=1000/3600)");
    let (name, rest) = s.split_once('=').ok_or_else(err)?;
    let (limit, per) = rest.split_once('/').ok_or_else(err)?;
    Ok(domain::tracker::RateLimitOverride {
        name: name.trim().to_owned(),
        limit: limit.trim().parse().map_err(|_| err())?,
        per_seconds: per.trim().parse().map_err(|_| err())?,
    })
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
    /// Run on this PostgreSQL database instead of a SQLite file: the demo works in its own
    /// schema `vulnbridge_demo` there, recreated on every run (a schema of that name it did
    /// not make is refused).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

fn parse_role(s: &str) -> Result<domain::Role, String> {
    domain::Role::parse(s).ok_or_else(|| format!("unknown role '{s}'; use reader, writer, maintainer or admin"))
}
