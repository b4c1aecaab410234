//! An index of a policy's statements by action, so evaluation looks only at the statements that
//! can match the requested action: cost grows with the statements that name the action's
//! service, not with the policy's size.

use crate::ast::Statement;
use std::collections::HashMap;

/// Statements of one policy, indexed by the actions they name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionIndex {
    /// Exact lowercase `service:action` → statements naming it without wildcards.
    exact: HashMap<String, Vec<usize>>,
    /// Lowercase service prefix → statements with a wildcard action in that service.
    service: HashMap<String, Vec<usize>>,
    /// Statements that can match any service: `*`, wildcard prefixes, `NotAction`.
    any: Vec<usize>,
}

impl ActionIndex {
    /// Builds the index; statement positions are indexes into `statements`.
    pub fn build(statements: &[Statement]) -> ActionIndex {
        let mut index = ActionIndex::default();
        for (i, st) in statements.iter().enumerate() {
            if st.action.negated {
                index.any.push(i);
                continue;
            }
            for a in &st.action.actions {
                let target = if a.service.contains(['*', '?']) {
                    &mut index.any
                } else if a.pattern.has_wildcard() {
                    index.service.entry(a.service.clone()).or_default()
                } else {
                    index.exact.entry(a.raw.to_lowercase()).or_default()
                };
                if target.last() != Some(&i) {
                    target.push(i);
                }
            }
        }
        index
    }

    /// The statements that may match `action_lower` (whose service prefix is `service`), in
    /// document order without repeats.
    pub fn candidates(&self, action_lower: &str, service: &str) -> Vec<usize> {
        let lists = [
            self.exact.get(action_lower).map(Vec::as_slice).unwrap_or_default(),
            self.service.get(service).map(Vec::as_slice).unwrap_or_default(),
            self.any.as_slice(),
        ];
        let total: usize = lists.iter().map(|l| l.len()).sum();
        let mut out = Vec::with_capacity(total);
        for l in lists {
            out.extend_from_slice(l);
        }
        if lists.iter().filter(|l| !l.is_empty()).count() > 1 {
            out.sort_unstable();
            out.dedup();
        }
        out
    }
}
