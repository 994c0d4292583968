//! What the Probely simulator holds: API keys, targets (each a site to scan) and their
//! findings. A finding's `changed` moves whenever its state does, from a clock that never
//! repeats, so ordering by it is a dependable watermark.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// Where the rest of a finding comes from.
#[derive(Clone, Debug)]
pub enum Body {
    /// A finding object from the fixture page, kept as it is.
    Fixture(Arc<Value>),
    /// Generated from the fixture finding `template` at its own URL.
    Generated { template: usize },
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// Unique within its target.
    pub id: u64,
    /// `notfixed`, `fixed`, `accepted` or `invalid`.
    pub state: String,
    /// 10 low, 20 medium, 30 high.
    pub severity: u8,
    pub url: String,
    pub retesting: bool,
    pub new: bool,
    pub last_found: DateTime<Utc>,
    pub changed: DateTime<Utc>,
    #[serde(skip)]
    pub body: Body,
}

impl Finding {
    /// Neither fixed, accepted nor invalid.
    pub fn is_open(&self) -> bool {
        self.state == "notfixed"
    }
}

#[derive(Debug, Serialize)]
pub struct Target {
    pub id: String,
    pub name: String,
    pub site_id: String,
    pub url: String,
    /// `single` (a web app) or `api`.
    pub kind: &'static str,
    pub labels: Vec<String>,
    pub changed: DateTime<Utc>,
    pub findings: Vec<Finding>,
    pub next_finding_id: u64,
}

impl Target {
    pub fn host(&self) -> String {
        url::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default()
    }

    pub fn open_findings(&self) -> usize {
        self.findings.iter().filter(|f| f.is_open()).count()
    }
}

#[derive(Debug, Serialize)]
pub struct State {
    #[serde(skip)]
    pub api_keys: Vec<String>,
    pub targets: Vec<Target>,
    counter: u64,
    last_stamp: DateTime<Utc>,
    /// Moves on every change (every change takes a stamp), for caches of what the API read.
    #[serde(skip)]
    pub version: u64,
}

impl Default for State {
    fn default() -> Self {
        State {
            api_keys: Vec::new(),
            targets: Vec::new(),
            counter: 0,
            last_stamp: DateTime::<Utc>::MIN_UTC,
            version: 0,
        }
    }
}

impl State {
    /// The current time, strictly later than any stamp handed out before.
    pub fn stamp(&mut self) -> DateTime<Utc> {
        self.version += 1;
        let now = Utc::now();
        self.last_stamp = if now > self.last_stamp {
            now
        } else {
            self.last_stamp + TimeDelta::microseconds(1)
        };
        self.last_stamp
    }

    /// A 12-character id like Probely's (`3r5Sjyg7enXp`).
    pub fn short_id(&mut self) -> String {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        self.counter += 1;
        let mut x = self.counter.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5851_F42D_4C95_7F2D;
        (0..12)
            .map(|_| {
                x = x
                    .rotate_left(7)
                    .wrapping_mul(0xBF58_476D_1CE4_E5B9)
                    .wrapping_add(1);
                char::from(ALPHABET[(x % ALPHABET.len() as u64) as usize])
            })
            .collect()
    }

    /// Removes a target; false when there is none with this id.
    pub fn remove_target(&mut self, id: &str) -> bool {
        let before = self.targets.len();
        self.targets.retain(|t| t.id != id);
        self.version += 1;
        self.targets.len() != before
    }

    pub fn target(&self, id: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.id == id)
    }

    pub fn target_mut(&mut self, id: &str) -> Option<&mut Target> {
        self.targets.iter_mut().find(|t| t.id == id)
    }

    /// A target at `url` with no findings; returns its id.
    pub fn add_target(
        &mut self,
        id: Option<String>,
        name: &str,
        url: &str,
        kind: &'static str,
    ) -> String {
        let id = id.unwrap_or_else(|| self.short_id());
        let site_id = self.short_id();
        let changed = self.stamp();
        self.targets.push(Target {
            id: id.clone(),
            name: name.to_owned(),
            site_id,
            url: url.to_owned(),
            kind,
            labels: Vec::new(),
            changed,
            findings: Vec::new(),
            next_finding_id: 1,
        });
        id
    }

    /// Adds `count` generated findings (open, from the fixture's templates in turn).
    pub fn add_generated(&mut self, target: &str, count: usize, templates: &[(u8, String)]) {
        let found = self.stamp();
        let Some(t) = self.target_mut(target) else {
            return;
        };
        if templates.is_empty() {
            return;
        }
        let base = t.url.trim_end_matches('/').to_owned();
        for n in 0..count {
            let template = n % templates.len();
            let (severity, path) = &templates[template];
            let id = t.next_finding_id;
            t.next_finding_id += 1;
            t.findings.push(Finding {
                id,
                state: "notfixed".into(),
                severity: *severity,
                url: format!("{base}{path}?page={}", n / templates.len() + 1),
                retesting: false,
                new: true,
                last_found: found,
                changed: found,
                body: Body::Generated { template },
            });
        }
    }

    /// Sets the state of the first `n` open findings of a target (`fixed` after a rescan,
    /// `invalid` or `accepted` by a person).
    pub fn set_state(&mut self, target: &str, n: usize, state: &str) {
        let stamp = self.stamp();
        let Some(t) = self.target_mut(target) else {
            return;
        };
        for f in t.findings.iter_mut().filter(|f| f.is_open()).take(n) {
            f.state = state.to_owned();
            f.retesting = false;
            f.changed = stamp;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_never_repeat_and_states_move_changed() {
        let mut s = State::default();
        let a = s.stamp();
        let b = s.stamp();
        assert!(b > a);
        let id = s.add_target(None, "shop", "https://shop.example.com", "single");
        assert_eq!(id.len(), 12);
        s.add_generated(&id, 3, &[(30, "/a".into()), (10, "/b".into())]);
        let before = s.target(&id).map(|t| t.findings[0].changed);
        s.set_state(&id, 1, "fixed");
        let t = s.target(&id).expect("the target");
        assert_eq!(t.open_findings(), 2);
        assert!(Some(t.findings[0].changed) > before);
        assert_eq!(t.findings[2].url, "https://shop.example.com/a?page=2");
    }
}
