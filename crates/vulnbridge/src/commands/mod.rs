//! One module per command.

mod connectors;
mod demo;
mod demo_connectors;
mod demo_trackers;
pub mod import;
mod integrations;
mod push;
mod serve;
mod simulate;
mod users;

use crate::cli::{Cli, Command};
use crate::config::Config;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        // Printing the API description needs no database and no logs on stderr.
        Command::Openapi => {
            out!("{}", web::openapi().to_pretty_json()?);
            Ok(())
        }
        Command::Demo(args) => {
            crate::telemetry::init(&config.log, &config.log_format);
            demo::run(config, args).await
        }
        // A simulator needs no database.
        Command::Simulate(args) => {
            crate::telemetry::init(&config.log, &config.log_format);
            simulate::run(args).await
        }
        command => {
            crate::telemetry::init(&config.log, &config.log_format);
            match command {
                Command::Serve(args) => serve::serve(config, args).await,
                Command::Worker(args) => serve::worker(config, args).await,
                Command::Migrate => serve::migrate(config).await,
                Command::Import(args) => import::run(config, args).await,
                Command::User(cmd) => users::user(config, cmd).await,
                Command::Token(cmd) => users::token(config, cmd).await,
                Command::Instance(cmd) => integrations::instance(config, cmd).await,
                Command::Mapping(cmd) => integrations::mapping(config, cmd).await,
                Command::Assignment(cmd) => integrations::assignment(config, cmd).await,
                Command::Push(args) => push::run(config, args).await,
                Command::Connector(cmd) => connectors::connector(config, cmd).await,
                Command::Record(cmd) => connectors::record(config, cmd).await,
                Command::Openapi | Command::Demo(_) | Command::Simulate(_) => unreachable!("handled above"),
            }
        }
    }
}
