//! `vulnbridge simulate VENDOR|TOOL`: one tracker's or scanner's simulator alone, seeded with a
//! small world (a tracker: an organisation, repositories or projects, a bot and a developer
//! account; a scanner: projects, sites or accounts with findings from the report fixtures), for
//! trying vulnbridge by hand: point an instance or a connector at the URL it prints.

use crate::cli::{SimulateArgs, Simulated};
use anyhow::Context;
use domain::tracker::Vendor;
use std::net::SocketAddr;

pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let bind: SocketAddr = args.bind.parse().with_context(|| format!("'{}' is not an address like 127.0.0.1:9001", args.bind))?;
    let listen = |e: std::io::Error| anyhow::Error::new(e).context(format!("cannot listen on {bind}"));
    // Each simulator stops when dropped, so it is kept alive until Ctrl-C.
    let vendor = match args.what {
        Simulated::Tracker(v) => v,
        Simulated::Scanner(tool) => {
            let sim = simulators::scanners::start_seeded(tool, bind).await.map_err(listen)?;
            serve(sim, |s| s.summary()).await;
            return Ok(());
        }
    };
    match vendor {
        Vendor::GitHub => serve(simulators::github::GitHubSim::start_seeded(bind).await.map_err(listen)?, |s| s.summary()).await,
        Vendor::GitLab => serve(simulators::gitlab::GitLabSim::start_seeded(bind).await.map_err(listen)?, |s| s.summary()).await,
        Vendor::Jira => serve(simulators::jira::JiraSim::start_seeded(bind).await.map_err(listen)?, |s| s.summary()).await,
        Vendor::AzureDevops => {
            serve(simulators::azure_devops::AzureDevOpsSim::start_seeded(bind).await.map_err(listen)?, |s| s.summary()).await
        }
        Vendor::ServiceNow => {
            serve(simulators::servicenow::ServiceNowSim::start_seeded(bind).await.map_err(listen)?, |s| s.summary()).await
        }
    }
    Ok(())
}

async fn serve<S>(sim: S, summary: impl Fn(&S) -> String) {
    print(&summary(&sim));
    wait().await;
    drop(sim);
}

fn print(summary: &str) {
    out!("{summary}");
    out!("Control API: GET /_sim/state, POST /_sim/faults, GET /_sim/requests, GET /_sim/webhooks");
    out!("Press Ctrl-C to stop.");
}

async fn wait() {
    let mut stop = crate::runtime::shutdown_signal();
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            break;
        }
    }
}
