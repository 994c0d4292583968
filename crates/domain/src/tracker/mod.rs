//! Integrators: vendors, instances, mappings and assignments, tickets, and the pure decisions
//! of a push (what to render, whether to push, what to send) and of inbound sync (what a
//! tracker's change does to a finding).

pub mod inbound;
mod instance;
mod mapping;
pub mod plan;
pub mod render;
mod ticket;
mod vendor;

pub use inbound::RemoteChange;
pub use instance::{
    Assignment, AssignmentScope, Instance, InstanceSettings, Mapping, RateLimitOverride, effective_assignments,
    parse_location,
};
pub use mapping::{
    DEFAULT_TITLE_TEMPLATE, InboundMapping, JiraSpace, MappingConfig, MappingTarget, PushFilters, PushMode, SeverityMapping,
    StatusMapping, IMPACT_URGENCY_FIELD, default_severity_mapping, default_status_mapping, servicenow_impact_urgency_preset,
};
pub use plan::{Changes, Part, Plan, Trigger, plan, should_push};
pub use render::{DUE_DATE, FindingView, GroupView, Place, RenderError, SubjectView, desired_fields};
pub use ticket::{
    CloseReason, FieldValue, LinkState, MARKER_LABEL, Marker, RemoteState, Subject, Ticket, TicketChange,
    TicketFields, TicketState,
};
pub use vendor::Vendor;
