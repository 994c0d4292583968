//! The states of a work item type and their categories (`…/workitemtypes/{type}/states`),
//! read once per client. A state counts as closed when its category is Resolved, Completed or
//! Removed: the work is done (or no longer wanted) from the developers' side.

use super::api::{self, Api, Body, segment};
use crate::{RequestClass, TrackerError};
use reqwest::Method;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct State {
    pub name: String,
    #[serde(default)]
    pub category: String,
}

impl State {
    pub fn closed(&self) -> bool {
        closed_category(&self.category)
    }
}

pub fn closed_category(category: &str) -> bool {
    matches!(category, "Resolved" | "Completed" | "Removed")
}

#[derive(Debug, Deserialize)]
struct StateList {
    value: Vec<State>,
}

/// Each (project, type)'s states, as read.
#[derive(Debug, Default)]
pub struct States {
    cache: Mutex<HashMap<(String, String), Vec<State>>>,
}

impl States {
    fn cached(&self, key: &(String, String)) -> Option<Vec<State>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// The states of `work_item_type` in `project`.
    pub async fn of(
        &self,
        api: &Api,
        project: &str,
        work_item_type: &str,
    ) -> Result<Vec<State>, TrackerError> {
        let key = (project.to_lowercase(), work_item_type.to_lowercase());
        if let Some(s) = self.cached(&key) {
            return Ok(s);
        }
        let list: StateList = api
            .json(
                RequestClass::Read,
                &format!("the states of {work_item_type} in Azure DevOps project {project}"),
                Method::GET,
                &format!(
                    "/{}/_apis/wit/workitemtypes/{}/states",
                    segment(project),
                    segment(work_item_type)
                ),
                api::API_VERSION,
                &[],
                &Body::None,
            )
            .await?;
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, list.value.clone());
        Ok(list.value)
    }

    /// Whether `state` counts as closed for its type (an unknown state: judged by its name).
    pub async fn is_closed(
        &self,
        api: &Api,
        project: &str,
        work_item_type: &str,
        state: &str,
    ) -> Result<bool, TrackerError> {
        let states = self.of(api, project, work_item_type).await?;
        Ok(
            match states.iter().find(|s| s.name.eq_ignore_ascii_case(state)) {
                Some(s) => s.closed(),
                None => super::webhook::closed_by_name(state),
            },
        )
    }
}
