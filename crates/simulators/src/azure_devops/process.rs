//! The four system processes and their work item types: each type's workflow states with their
//! state categories, as "Workflow states and state categories" (Azure Boards docs) lists them,
//! and the fields each type carries.
//!
//! Simplifications, all documented here: every type carries `Microsoft.VSTS.Scheduling.DueDate`
//! (in the system processes only some types do; an inherited process adds it where needed), and
//! the reasons are `New` on creation and `Moved to state <State>` afterwards (what inherited
//! processes use for custom states) instead of each system state's own reason list.

use serde::{Deserialize, Serialize};

/// A project's process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Process {
    Agile,
    Scrum,
    Basic,
    #[serde(rename = "CMMI")]
    Cmmi,
}

impl Process {
    pub fn name(self) -> &'static str {
        match self {
            Process::Agile => "Agile",
            Process::Scrum => "Scrum",
            Process::Basic => "Basic",
            Process::Cmmi => "CMMI",
        }
    }

    /// The system process template ids Azure DevOps uses (`capabilities.processTemplate`).
    pub fn template_id(self) -> &'static str {
        match self {
            Process::Agile => "adcc42ab-9882-485e-a3ed-7678f01f66bc",
            Process::Scrum => "6b724908-ef14-45cf-84f8-768b5384da45",
            Process::Basic => "b8a3a935-7e91-48b8-a94c-606d37c3e9f2",
            Process::Cmmi => "27450541-8e31-4150-9947-dc59f998fc01",
        }
    }

    pub fn parse(text: &str) -> Option<Process> {
        match text.trim().to_ascii_lowercase().as_str() {
            "agile" => Some(Process::Agile),
            "scrum" => Some(Process::Scrum),
            "basic" => Some(Process::Basic),
            "cmmi" => Some(Process::Cmmi),
            _ => None,
        }
    }

    pub fn types(self) -> &'static [TypeDef] {
        match self {
            Process::Agile => AGILE,
            Process::Scrum => SCRUM,
            Process::Basic => BASIC,
            Process::Cmmi => CMMI,
        }
    }

    /// A type by name, ignoring case as Azure DevOps does.
    pub fn work_item_type(self, name: &str) -> Option<&'static TypeDef> {
        self.types()
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name.trim()))
    }
}

/// A state category (`WorkItemStateColor.category`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Proposed,
    InProgress,
    Resolved,
    Completed,
    Removed,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Proposed => "Proposed",
            Category::InProgress => "InProgress",
            Category::Resolved => "Resolved",
            Category::Completed => "Completed",
            Category::Removed => "Removed",
        }
    }

    /// The colours the system processes give each category.
    pub fn color(self) -> &'static str {
        match self {
            Category::Proposed => "b2b2b2",
            Category::InProgress => "007acc",
            Category::Resolved => "ff9d00",
            Category::Completed => "339933",
            Category::Removed => "ffffff",
        }
    }
}

/// A work item type of a process.
#[derive(Debug)]
pub struct TypeDef {
    pub name: &'static str,
    pub reference_name: &'static str,
    pub description: &'static str,
    pub color: &'static str,
    /// In workflow order; the first is where new work items start.
    pub states: &'static [(&'static str, Category)],
    /// Fields besides [`COMMON_FIELDS`].
    pub extra_fields: &'static [&'static str],
}

impl TypeDef {
    pub fn initial_state(&self) -> &'static str {
        self.states.first().map_or("New", |(name, _)| name)
    }

    /// The state's exact name and category, matched ignoring case.
    pub fn state(&self, name: &str) -> Option<(&'static str, Category)> {
        self.states
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(name.trim()))
            .copied()
    }

    pub fn has_field(&self, reference: &str) -> bool {
        COMMON_FIELDS
            .iter()
            .chain(self.extra_fields)
            .any(|f| f.eq_ignore_ascii_case(reference))
    }

    pub fn fields(&self) -> impl Iterator<Item = &'static str> {
        COMMON_FIELDS.iter().chain(self.extra_fields).copied()
    }
}

/// Fields every simulated type carries.
pub const COMMON_FIELDS: &[&str] = &[
    "System.Id",
    "System.Rev",
    "System.AreaPath",
    "System.TeamProject",
    "System.IterationPath",
    "System.WorkItemType",
    "System.State",
    "System.Reason",
    "System.AssignedTo",
    "System.CreatedDate",
    "System.CreatedBy",
    "System.ChangedDate",
    "System.ChangedBy",
    "System.AuthorizedDate",
    "System.RevisedDate",
    "System.Watermark",
    "System.CommentCount",
    "System.Title",
    "System.Description",
    "System.History",
    "System.Tags",
    "System.BoardColumn",
    "Microsoft.VSTS.Common.Priority",
    "Microsoft.VSTS.Common.StateChangeDate",
    "Microsoft.VSTS.Scheduling.DueDate",
];

const BUG_FIELDS: &[&str] = &[
    "Microsoft.VSTS.TCM.ReproSteps",
    "Microsoft.VSTS.Common.Severity",
];

use Category::*;

const AGILE: &[TypeDef] = &[
    TypeDef {
        name: "Bug",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Bug",
        description: "Describes a divergence between required and actual behavior, and tracks the work done to correct the defect and verify the correction.",
        color: "CC293D",
        states: &[
            ("New", Proposed),
            ("Active", InProgress),
            ("Resolved", Resolved),
            ("Closed", Completed),
        ],
        extra_fields: BUG_FIELDS,
    },
    TypeDef {
        name: "Epic",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Epic",
        description: "Epics help teams effectively manage and groom their product backlog",
        color: "FF7B00",
        states: &[
            ("New", Proposed),
            ("Active", InProgress),
            ("Resolved", Resolved),
            ("Closed", Completed),
            ("Removed", Removed),
        ],
        extra_fields: &[],
    },
    TypeDef {
        name: "Feature",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Feature",
        description: "Tracks a feature that will be released with the product",
        color: "773B93",
        states: &[
            ("New", Proposed),
            ("Active", InProgress),
            ("Resolved", Resolved),
            ("Closed", Completed),
            ("Removed", Removed),
        ],
        extra_fields: &[],
    },
    TypeDef {
        name: "Issue",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Issue",
        description: "Tracks an obstacle to progress.",
        color: "B4009E",
        states: &[("Active", InProgress), ("Closed", Completed)],
        extra_fields: &[],
    },
    TypeDef {
        name: "Task",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Task",
        description: "Tracks work that needs to be done.",
        color: "F2CB1D",
        states: &[
            ("New", Proposed),
            ("Active", InProgress),
            ("Closed", Completed),
            ("Removed", Removed),
        ],
        extra_fields: &[],
    },
    TypeDef {
        name: "User Story",
        reference_name: "Microsoft.VSTS.WorkItemTypes.UserStory",
        description: "Tracks an activity the user will be able to perform with the product",
        color: "009CCC",
        states: &[
            ("New", Proposed),
            ("Active", InProgress),
            ("Resolved", InProgress),
            ("Closed", Completed),
            ("Removed", Removed),
        ],
        extra_fields: &[],
    },
];

const SCRUM: &[TypeDef] = &[
    TypeDef {
        name: "Bug",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Bug",
        description: "Describes a divergence between required and actual behavior, and tracks the work done to correct the defect and verify the correction.",
        color: "CC293D",
        states: &[
            ("New", Proposed),
            ("Approved", Proposed),
            ("Committed", InProgress),
            ("Done", Completed),
            ("Removed", Removed),
        ],
        extra_fields: BUG_FIELDS,
    },
    TypeDef {
        name: "Epic",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Epic",
        description: "Epics help teams effectively manage and groom their product backlog",
        color: "FF7B00",
        states: &[
            ("New", Proposed),
            ("Committed", InProgress),
            ("Done", Completed),
            ("Removed", Removed),
        ],
        extra_fields: &[],
    },
    TypeDef {
        name: "Feature",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Feature",
        description: "Tracks a feature that will be released with the product",
        color: "773B93",
        states: &[
            ("New", Proposed),
            ("Committed", InProgress),
            ("Done", Completed),
            ("Removed", Removed),
        ],
        extra_fields: &[],
    },
    TypeDef {
        name: "Impediment",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Issue",
        description: "Tracks an obstacle to progress.",
        color: "B4009E",
        states: &[("Open", InProgress), ("Closed", Completed)],
        extra_fields: &[],
    },
    TypeDef {
        name: "Product Backlog Item",
        reference_name: "Microsoft.VSTS.WorkItemTypes.ProductBacklogItem",
        description: "Tracks an activity the user will be able to perform with the product",
        color: "009CCC",
        states: &[
            ("New", Proposed),
            ("Approved", Proposed),
            ("Committed", InProgress),
            ("Done", Completed),
            ("Removed", Removed),
        ],
        extra_fields: &[],
    },
    TypeDef {
        name: "Task",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Task",
        description: "Tracks work that needs to be done.",
        color: "F2CB1D",
        states: &[
            ("To Do", Proposed),
            ("In Progress", InProgress),
            ("Done", Completed),
            ("Removed", Removed),
        ],
        extra_fields: &[],
    },
];

const BASIC: &[TypeDef] = &[
    TypeDef {
        name: "Epic",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Epic",
        description: "Epics help teams effectively manage and groom their product backlog",
        color: "FF7B00",
        states: &[
            ("To Do", Proposed),
            ("Doing", InProgress),
            ("Done", Completed),
        ],
        extra_fields: &[],
    },
    TypeDef {
        name: "Issue",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Issue",
        description: "Tracks an issue or an item of work.",
        color: "009CCC",
        states: &[
            ("To Do", Proposed),
            ("Doing", InProgress),
            ("Done", Completed),
        ],
        extra_fields: &[],
    },
    TypeDef {
        name: "Task",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Task",
        description: "Tracks work that needs to be done.",
        color: "F2CB1D",
        states: &[
            ("To Do", Proposed),
            ("Doing", InProgress),
            ("Done", Completed),
        ],
        extra_fields: &[],
    },
];

const CMMI: &[TypeDef] = &[
    TypeDef {
        name: "Bug",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Bug",
        description: "Describes a divergence between required and actual behavior, and tracks the work done to correct the defect and verify the correction.",
        color: "CC293D",
        states: &[
            ("Proposed", Proposed),
            ("Active", InProgress),
            ("Resolved", Resolved),
            ("Closed", Completed),
        ],
        extra_fields: BUG_FIELDS,
    },
    TypeDef {
        name: "Epic",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Epic",
        description: "Epics help teams effectively manage and groom their product backlog",
        color: "FF7B00",
        states: &[
            ("Proposed", Proposed),
            ("Active", InProgress),
            ("Resolved", InProgress),
            ("Closed", Completed),
            ("Removed", Removed),
        ],
        extra_fields: &[],
    },
    TypeDef {
        name: "Feature",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Feature",
        description: "Tracks a feature that will be released with the product",
        color: "773B93",
        states: &[
            ("Proposed", Proposed),
            ("Active", InProgress),
            ("Resolved", InProgress),
            ("Closed", Completed),
            ("Removed", Removed),
        ],
        extra_fields: &[],
    },
    TypeDef {
        name: "Issue",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Issue",
        description: "Tracks an obstacle to progress.",
        color: "B4009E",
        states: &[
            ("Proposed", Proposed),
            ("Active", InProgress),
            ("Resolved", Resolved),
            ("Closed", Completed),
        ],
        extra_fields: &[],
    },
    TypeDef {
        name: "Requirement",
        reference_name: "Microsoft.VSTS.CMMI.Requirement",
        description: "Tracks a requirement of the product.",
        color: "009CCC",
        states: &[
            ("Proposed", Proposed),
            ("Active", InProgress),
            ("Resolved", InProgress),
            ("Closed", Completed),
            ("Removed", Removed),
        ],
        extra_fields: &[],
    },
    TypeDef {
        name: "Task",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Task",
        description: "Tracks work that needs to be done.",
        color: "F2CB1D",
        states: &[
            ("Proposed", Proposed),
            ("Active", InProgress),
            ("Resolved", InProgress),
            ("Closed", Completed),
        ],
        extra_fields: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_processes_have_their_documented_states() {
        let states = |p: Process, t: &str| -> Vec<&str> {
            p.work_item_type(t)
                .map(|t| t.states.iter().map(|(s, _)| *s).collect())
                .unwrap_or_default()
        };
        assert_eq!(states(Process::Basic, "issue"), ["To Do", "Doing", "Done"]);
        assert_eq!(
            states(Process::Agile, "User Story"),
            ["New", "Active", "Resolved", "Closed", "Removed"]
        );
        assert_eq!(
            states(Process::Scrum, "Bug"),
            ["New", "Approved", "Committed", "Done", "Removed"]
        );
        assert_eq!(
            states(Process::Cmmi, "Bug"),
            ["Proposed", "Active", "Resolved", "Closed"]
        );
        assert!(
            Process::Basic.work_item_type("Bug").is_none(),
            "Basic has no Bug type"
        );
        let bug = Process::Agile.work_item_type("Bug").unwrap();
        assert_eq!(
            bug.state("resolved"),
            Some(("Resolved", Category::Resolved))
        );
        assert!(bug.has_field("Microsoft.VSTS.TCM.ReproSteps"));
        assert!(
            !Process::Agile
                .work_item_type("Task")
                .unwrap()
                .has_field("Microsoft.VSTS.TCM.ReproSteps")
        );
    }
}
