//! Policies as [`Formula`]s: the identity view of decision 006 (§5) for policies whose
//! statements have no conditions and no policy variables. Anything else is refused with the
//! reason, which the caller reports as an unknown answer.

use crate::ir::{Formula, Re};
use policy::pattern::{Glob, Tok};
use policy::{Effect, Policy, Statement};
use std::collections::{BTreeMap, HashMap};

/// Why a policy cannot be encoded (yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported(pub String);

/// The actions a query ranges over, grouped into classes of actions every pattern of the query
/// treats alike: catalog actions and the action names the policies spell out.
#[derive(Clone, Debug)]
pub struct Actions {
    patterns: Vec<Glob>,
    /// Per class: its members (lowercase `service:action`), the first one its representative.
    /// The last class of actions no pattern matches lists only its representative.
    pub classes: Vec<Vec<String>>,
}

impl Actions {
    /// The classes for every action pattern of `policies` and of `extra` (a question's own).
    pub fn new(policies: &[&Policy], extra: &[Glob]) -> Actions {
        let mut patterns: Vec<Glob> = Vec::new();
        for p in policies {
            for s in &p.statements {
                for a in &s.action.actions {
                    if !patterns.contains(&a.pattern) {
                        patterns.push(a.pattern.clone());
                    }
                }
            }
        }
        for g in extra {
            if !patterns.contains(g) {
                patterns.push(g.clone());
            }
        }
        // Only actions some pattern matches need a signature; a pattern can only match actions
        // that start with its text before the first wildcard (a range of the sorted catalog).
        let catalog = catalog_actions();
        let n = patterns.len();
        let mut signatures: HashMap<String, Vec<bool>> = HashMap::new();
        for (i, g) in patterns.iter().enumerate() {
            let prefix: String = g
                .toks()
                .iter()
                .map_while(|t| if let Tok::Char(c) = t { Some(*c) } else { None })
                .collect();
            let start = catalog.partition_point(|a| a.as_str() < prefix.as_str());
            for action in catalog.get(start..).unwrap_or_default() {
                if !action.starts_with(&prefix) {
                    break;
                }
                if g.matches(action) {
                    if let Some(bit) = signatures
                        .entry(action.clone())
                        .or_insert_with(|| vec![false; n])
                        .get_mut(i)
                    {
                        *bit = true;
                    }
                }
            }
        }
        // Action names the policies spell out that the catalog does not know.
        for g in &patterns {
            if let Some(lit) = g.literal() {
                let lit = lit.to_lowercase();
                if let std::collections::hash_map::Entry::Vacant(slot) = signatures.entry(lit) {
                    let signature = patterns.iter().map(|p| p.matches(slot.key())).collect();
                    slot.insert(signature);
                }
            }
        }
        let mut named: Vec<(String, Vec<bool>)> = signatures.into_iter().collect();
        named.sort();
        let mut by_signature: BTreeMap<Vec<bool>, Vec<String>> = BTreeMap::new();
        let mut order: Vec<Vec<bool>> = Vec::new();
        for (action, signature) in named {
            by_signature
                .entry(signature.clone())
                .or_insert_with(|| {
                    order.push(signature);
                    Vec::new()
                })
                .push(action);
        }
        let mut classes: Vec<Vec<String>> =
            order.into_iter().filter_map(|s| by_signature.remove(&s)).collect();
        // Every other catalog action matches no pattern: one class, its first action standing
        // for all of them.
        let matched: std::collections::HashSet<&String> = classes.iter().flatten().collect();
        if let Some(other) = catalog.iter().find(|a| !matched.contains(a)) {
            classes.push(vec![other.clone()]);
        }
        Actions { patterns, classes }
    }

    /// The classes whose actions `glob` matches.
    pub fn matching(&self, glob: &Glob) -> Vec<usize> {
        self.classes
            .iter()
            .enumerate()
            .filter(|(_, members)| members.first().is_some_and(|a| glob.matches(a)))
            .map(|(i, _)| i)
            .collect()
    }

    /// The number of patterns the classes were built from.
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }
}

/// Every catalog action, lowercase `service:action`, sorted, once.
fn catalog_actions() -> &'static [String] {
    static ACTIONS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    ACTIONS.get_or_init(|| {
        let mut all = Vec::new();
        for service in policy::catalog::catalog().services() {
            for action in service.actions() {
                all.push(format!("{}:{}", service.prefix(), action.name()).to_lowercase());
            }
        }
        all.sort();
        all.dedup();
        all
    })
}

/// A glob as a regular language; `arn` applies ARN matching (wildcards in the first five parts
/// never cross a `:`), as `Glob::matches_resource` does for patterns that start with `arn:`.
pub fn glob_re(glob: &Glob, arn: bool) -> Re {
    if let Some(lit) = glob.literal() {
        return Re::Lit(lit.to_string());
    }
    if glob.is_match_all() {
        return Re::all();
    }
    let colons = glob.toks().iter().filter(|t| **t == Tok::Char(':')).count();
    let restricted = if arn { colons.min(5) } else { 0 };
    let mut seen = 0;
    let mut parts = Vec::new();
    let mut text = String::new();
    for tok in glob.toks() {
        match tok {
            Tok::Char(c) => {
                if *c == ':' {
                    seen += 1;
                }
                text.push(*c);
            }
            Tok::Star | Tok::One => {
                if !text.is_empty() {
                    parts.push(Re::Lit(std::mem::take(&mut text)));
                }
                let one = if seen < restricted { Re::NoColon } else { Re::AnyChar };
                parts.push(if *tok == Tok::Star { Re::Star(Box::new(one)) } else { one });
            }
        }
    }
    if !text.is_empty() {
        parts.push(Re::Lit(text));
    }
    Re::Concat(parts)
}

/// Whether `Resource`/`NotResource` pattern text takes ARN matching.
fn is_arn_pattern(glob: &Glob) -> bool {
    let prefix = [Tok::Char('a'), Tok::Char('r'), Tok::Char('n'), Tok::Char(':')];
    glob.toks().starts_with(&prefix)
}

/// When a statement applies to the request (its action and resource; no conditions).
pub fn statement(s: &Statement, actions: &Actions) -> Result<Formula, Unsupported> {
    if !s.conditions.is_empty() {
        return Err(Unsupported("conditions are not encoded yet".into()));
    }
    if s.principal.is_some() {
        return Err(Unsupported("Principal in an identity policy".into()));
    }
    let mut classes: Vec<usize> = Vec::new();
    for a in &s.action.actions {
        for c in actions.matching(&a.pattern) {
            if !classes.contains(&c) {
                classes.push(c);
            }
        }
    }
    let action = if s.action.negated {
        let all: Vec<usize> = (0..actions.classes.len()).filter(|c| !classes.contains(c)).collect();
        Formula::ActionIn(all)
    } else {
        Formula::ActionIn(classes)
    };
    let Some(clause) = &s.resource else {
        return Err(Unsupported("a statement without Resource".into()));
    };
    let mut any = Vec::new();
    for r in &clause.resources {
        let glob = r.template.fixed().ok_or_else(|| {
            Unsupported(format!("policy variables are not encoded yet ({})", r.raw))
        })?;
        any.push(Formula::ResourceIn(glob_re(glob, is_arn_pattern(glob))));
    }
    let resource = if clause.negated { Formula::or(any).negate() } else { Formula::or(any) };
    Ok(Formula::and(vec![action, resource]))
}

/// When an identity policy allows the request: no Deny applies and some Allow does.
pub fn allows(p: &Policy, actions: &Actions) -> Result<Formula, Unsupported> {
    let mut allow = Vec::new();
    let mut deny = Vec::new();
    for s in &p.statements {
        let applies = statement(s, actions)?;
        match s.effect {
            Effect::Allow => allow.push(applies),
            Effect::Deny => deny.push(applies),
        }
    }
    Ok(Formula::and(vec![Formula::or(deny).negate(), Formula::or(allow)]))
}
