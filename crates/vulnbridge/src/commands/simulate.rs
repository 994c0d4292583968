//! `vulnbridge simulate VENDOR`: one tracker's simulator alone, seeded with a small world
//! (an organisation, repositories or projects, a bot and a developer account), for trying
//! vulnbridge by hand: point an instance at the URL it prints.

use crate::cli::SimulateArgs;
use anyhow::{Context, bail};
use domain::tracker::Vendor;
use std::net::SocketAddr;

pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let bind: SocketAddr = args.bind.parse().with_context(|| format!("'{}' is not an address like 127.0.0.1:9001", args.bind))?;
    let summary = match args.vendor {
        Vendor::GitHub => {
            let sim = simulators::github::GitHubSim::start_seeded(bind).await.with_context(|| format!("cannot listen on {bind}"))?;
            let s = sim.summary();
            print(&s);
            wait().await;
            drop(sim);
            return Ok(());
        }
        Vendor::GitLab => {
            let sim = simulators::gitlab::GitLabSim::start_seeded(bind).await.with_context(|| format!("cannot listen on {bind}"))?;
            let s = sim.summary();
            print(&s);
            wait().await;
            drop(sim);
            return Ok(());
        }
        other => other,
    };
    bail!("there is no {} simulator in this version (github and gitlab are)", summary.label())
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
