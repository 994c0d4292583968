//! What every simulator shares: serving, fault injection, request counting, sliding-window
//! rate limits and the webhook outbox.

pub mod control;
mod faults;
pub mod graphql;
mod log;
pub mod pagination;
mod server;
mod window;
mod webhooks;

pub use faults::{Fault, Faults};
pub use log::RequestLog;
pub use server::SimServer;
pub use window::SlidingWindow;
pub use webhooks::{Delivery, WebhookOutbox};
