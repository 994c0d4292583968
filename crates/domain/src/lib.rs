#![doc = include_str!("../README.md")]

mod access;
pub mod connector;
pub mod dedup;
mod endpoint;
mod entities;
mod finding;
mod group;
mod idset;
mod ids;
pub mod reimport;
mod severity;
pub mod stats;
pub mod redact;
mod status;
mod text;
pub mod tracker;
mod user;

pub use access::{Action, Actor, Role, Visibility};
pub use endpoint::Endpoint;
pub use entities::{
    BUSINESS_CRITICALITIES, check_business_criticality, check_dates, normalize_tags,
    Engagement, EngagementPatch, EngagementStatus, EngagementType, NewEngagement, NewProduct,
    NewProductType, NewTest, Product, ProductPatch, ProductType, ProductTypePatch, Test, TestPatch,
};
pub use finding::{
    Finding, FindingPatch, HistoryEntry, NewFinding, RequestResponse, normalize_vulnerability_id,
};
pub use dedup::DedupScope;
pub use group::{FindingGroup, GroupBy, group_severity, group_status};
pub use idset::IdRanges;
pub use ids::{
    AssignmentId, ConnectorId, EngagementId, FindingGroupId, FindingId, InstanceId, JobId, MappingId, OperationId,
    ProductId, ProductTypeId, RecordId, TestId, TicketId, TokenId, UserId,
};
pub use severity::{ParseSeverityError, Severity};
pub use status::{ParseStatusError, Status};
pub use text::{Name, Title, ValidationError, optional_text};
pub use user::{Membership, TokenInfo, User, parse_username};

/// The one timestamp type: UTC, stored with microsecond precision on both databases.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
