//! Typed ids, so that a finding id can never be passed where a product id is expected.
//! Every id is an `i64` in both databases (BIGINT identity on PostgreSQL, rowid on SQLite).

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = i64)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                Self(v)
            }
        }
    )*};
}

id_type!(
    /// A Product Type (organisation) id.
    ProductTypeId,
    /// A Product id.
    ProductId,
    /// An Engagement id.
    EngagementId,
    /// A Test id.
    TestId,
    /// A Finding id.
    FindingId,
    /// A Finding Group id.
    FindingGroupId,
    /// A user id.
    UserId,
    /// An API token id.
    TokenId,
    /// A background job id.
    JobId,
    /// An Integration Instance id (one connection to a tracker).
    InstanceId,
    /// An Issue Tracker Mapping id.
    MappingId,
    /// An Issue Tracker Assignment id.
    AssignmentId,
    /// A Ticket (link to a remote ticket) id.
    TicketId,
    /// A Connector id (one connection to a scanner).
    ConnectorId,
    /// A Record id (one unit a connector discovered: a project, a site…).
    RecordId,
    /// An Operation id (one run of Discover or Sync).
    OperationId,
);
