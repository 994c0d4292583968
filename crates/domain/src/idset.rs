//! A set of ids stored as sorted `[first, last]` ranges: import history keeps the findings
//! each import touched, and those are mostly consecutive (an import inserts in id order).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct IdRanges(Vec<[i64; 2]>);

impl IdRanges {
    /// Builds from any ids (unsorted, repeated: both fine).
    pub fn from_ids(ids: impl IntoIterator<Item = i64>) -> IdRanges {
        let mut v: Vec<i64> = ids.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        let mut out: Vec<[i64; 2]> = Vec::new();
        for id in v {
            match out.last_mut() {
                Some(r) if r[1] + 1 == id => r[1] = id,
                _ => out.push([id, id]),
            }
        }
        IdRanges(out)
    }

    pub fn len(&self) -> usize {
        self.0.iter().map(|[a, b]| (b - a + 1) as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        self.0.iter().flat_map(|[a, b]| *a..=*b)
    }

    pub fn contains(&self, id: i64) -> bool {
        self.0
            .binary_search_by(|[a, b]| {
                if *b < id {
                    std::cmp::Ordering::Less
                } else if *a > id {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn compacts_runs() {
        let r = IdRanges::from_ids([5, 1, 2, 3, 9, 2, 10]);
        assert_eq!(serde_json::to_string(&r).unwrap(), "[[1,3],[5,5],[9,10]]");
        assert_eq!(r.len(), 6);
        assert!(r.contains(10) && !r.contains(4));
    }

    proptest! {
        #[test]
        fn round_trips(ids in prop::collection::vec(0i64..500, 0..200)) {
            let r = IdRanges::from_ids(ids.clone());
            let mut want = ids.clone();
            want.sort_unstable();
            want.dedup();
            prop_assert_eq!(r.iter().collect::<Vec<_>>(), want.clone());
            prop_assert_eq!(r.len(), want.len());
            for id in 0..500 {
                prop_assert_eq!(r.contains(id), want.binary_search(&id).is_ok());
            }
        }
    }
}
