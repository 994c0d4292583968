//! What an import is asked to do: where the findings go and how they are treated. The field
//! names follow DefectDojo's `import-scan` / `reimport-scan` parameters.

use chrono::NaiveDate;
use domain::{DedupScope, EngagementId, GroupBy, ProductId, Severity, TestId};
use serde::{Deserialize, Serialize};

/// Where the findings go.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Target {
    /// Reimport into this test.
    pub test: Option<TestId>,
    /// Import into (or reimport within) this engagement.
    pub engagement: Option<EngagementId>,
    pub product: Option<ProductId>,
    pub product_type_name: Option<String>,
    pub product_name: Option<String>,
    pub engagement_name: Option<String>,
    /// The test's title; also how a reimport finds its test (with the scan type).
    pub test_title: Option<String>,
}

/// How the findings are treated.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportOptions {
    /// Into an existing test (matching and closing what is gone) rather than a new one.
    pub reimport: bool,
    /// Create the product type, product and engagement named in the target when missing.
    pub auto_create_context: bool,
    /// Close findings no longer reported. Default: off for an import (DefectDojo: findings of
    /// the same scan type in the engagement), on for a reimport (findings of the test).
    pub close_old_findings: Option<bool>,
    /// With `close_old_findings` on an import: look across the product, not the engagement.
    pub close_old_findings_product_scope: bool,
    /// Findings below this severity are skipped.
    pub minimum_severity: Severity,
    /// Force every finding open (`true`) or closed (`false`); default: what the scanner says.
    pub active: Option<bool>,
    /// Force `verified`; default: what the scanner says.
    pub verified: Option<bool>,
    /// Tags for the test (and, with `apply_tags_to_findings`, for new findings).
    pub tags: Vec<String>,
    pub apply_tags_to_findings: bool,
    /// Group new findings.
    pub group_by: Option<GroupBy>,
    /// With `group_by`: also make groups of one (DefectDojo's default: yes).
    pub create_finding_groups_for_all_findings: bool,
    /// Where new findings are checked against earlier ones to mark duplicates.
    pub deduplication_scope: DedupScope,
    /// The service the findings belong to: part of their identity, and closing is limited to it.
    pub service: Option<String>,
    /// The scan's date, used as every new finding's discovery date.
    pub scan_date: Option<NaiveDate>,
    /// Leave closed findings closed even when reported again (triage-less scanners).
    pub do_not_reactivate: bool,
    pub version: Option<String>,
    pub build_id: Option<String>,
    pub commit_hash: Option<String>,
    pub branch_tag: Option<String>,
    pub environment: Option<String>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            reimport: false,
            auto_create_context: false,
            close_old_findings: None,
            close_old_findings_product_scope: false,
            minimum_severity: Severity::Info,
            active: None,
            verified: None,
            tags: Vec::new(),
            apply_tags_to_findings: false,
            group_by: None,
            create_finding_groups_for_all_findings: true,
            deduplication_scope: DedupScope::Product,
            service: None,
            scan_date: None,
            do_not_reactivate: false,
            version: None,
            build_id: None,
            commit_hash: None,
            branch_tag: None,
            environment: None,
        }
    }
}

impl ImportOptions {
    pub fn closes_old_findings(&self) -> bool {
        self.close_old_findings.unwrap_or(self.reimport)
    }
}
