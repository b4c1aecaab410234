//! An index of a policy's statements by action, so evaluation looks only at the statements that
//! can match the requested action: cost grows with the statements that name the action's
//! service, not with the policy's size.

use crate::ast::Statement;
use crate::fasthash::FastMap as HashMap;

/// Statements of one policy, indexed by the actions they name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionIndex {
    /// Exact lowercase `service:action` → statements naming it without wildcards.
    exact: HashMap<String, Vec<usize>>,
    /// Lowercase service prefix → statements with a wildcard action in that service.
    service: HashMap<String, Vec<usize>>,
    /// Statements that can match any service: `*`, wildcard prefixes, `NotAction`.
    any: Vec<usize>,
    /// One bit per service prefix named (see [`service_bit`]): a policy whose mask misses the
    /// request's bit and has no `any` statement is skipped without a lookup.
    mask: u64,
}

/// The bit of a lowercase service prefix in an index's service mask.
pub fn service_bit(service: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let h = BuildHasherDefault::<crate::fasthash::FastHasher>::default().hash_one(service);
    1u64 << (h >> 58)
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
                // A pattern that matches nothing makes its statement a candidate for nothing.
                if a.never {
                    continue;
                }
                if !a.service.contains(['*', '?']) {
                    index.mask |= service_bit(&a.service);
                }
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
    pub fn candidates(&self, action_lower: &str, service: &str, bit: u64) -> Candidates<'_> {
        if self.mask & bit == 0 {
            return Candidates::One(&self.any);
        }
        let lists = [
            self.exact.get(action_lower).map(Vec::as_slice).unwrap_or_default(),
            self.service.get(service).map(Vec::as_slice).unwrap_or_default(),
            self.any.as_slice(),
        ];
        let mut non_empty = lists.into_iter().filter(|l| !l.is_empty());
        match (non_empty.next(), non_empty.next()) {
            (None, _) => Candidates::One(&[]),
            (Some(only), None) => Candidates::One(only),
            _ => {
                let mut out: Vec<usize> = lists.concat();
                out.sort_unstable();
                out.dedup();
                Candidates::Many(out)
            }
        }
    }
}

/// Candidate statement positions, borrowed when they come from a single list.
#[derive(Debug)]
pub enum Candidates<'a> {
    /// One index list, already in order.
    One(&'a [usize]),
    /// Several lists merged.
    Many(Vec<usize>),
}

impl Candidates<'_> {
    /// The positions, in document order without repeats.
    pub fn as_slice(&self) -> &[usize] {
        match self {
            Candidates::One(s) => s,
            Candidates::Many(v) => v,
        }
    }
}
