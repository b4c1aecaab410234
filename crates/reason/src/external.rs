//! `external` (decision 006, §5): which callers outside a zone of trust a resource policy lets
//! in, summarised as Access Analyzer findings: the principal (`*`, an account, an ARN or an
//! identity provider), the actions, and the condition under which, found from general to
//! specific: anyone, then each account the policy names, then each principal it names; for
//! each, first with every fixing key absent or fresh, then with the fixing values one of the
//! policy's statements names pinned (and, where a `Deny` still stands in the way, one value a
//! `Deny` names as well), then with the keys free. Actions a more general finding already
//! grants are not repeated in a more specific one.
//!
//! The candidates come from the statements, not from every combination of the policy's values:
//! a principal is asked only about the classes of actions the `Allow` statements that may name
//! it grant, under the values those statements name. The policy is encoded once per caller
//! kind for the whole run.

use crate::encode::{Pin, Query, Unsupported, View};
use crate::ir::Formula;
use crate::principal::{self, Kind};
use crate::{accounts_in, encode_expected, search_encoded, Answer, Solver, Witness, FIXING_KEYS};
use policy::ast::{PrincipalEntry, PrincipalKind, PrincipalSet};
use policy::request::account_in_arn;
use policy::{Effect, Policy, Statement};
use std::collections::BTreeMap;

/// One way in for callers outside the zone of trust.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// `("AWS", "*" | account | ARN)` or `("Federated", provider)`.
    pub principal: (String, String),
    /// Open to anyone.
    pub is_public: bool,
    /// The actions (lowercase), sorted.
    pub actions: Vec<String>,
    /// Fixing keys and the values they must hold (empty: unconditional).
    pub condition: Vec<(String, Vec<String>)>,
    /// A request that shows the finding (replayed).
    pub witness: Witness,
}

/// The callers a stratum asks about, as a formula per kind.
type Who<'a> = Box<dyn Fn(Kind) -> Formula + 'a>;

/// Action classes found per stratum of conditions (its pins as `key=value`, sorted; `None`
/// for the stratum with the fixing keys free).
type Found = BTreeMap<Option<Vec<String>>, Vec<usize>>;

fn stratum(pinned: Option<&[(String, Pin)]>) -> Option<Vec<String>> {
    pinned.map(|p| {
        let mut keys: Vec<String> = p.iter().map(|(k, v)| format!("{k}={}", v.text())).collect();
        keys.sort();
        keys
    })
}

/// What a more general principal already found that a stratum need not repeat: everything
/// found under a subset of its pins (under any pins, for the free stratum).
fn subsumed(general: &Found, at: &Option<Vec<String>>) -> Vec<usize> {
    general
        .iter()
        .filter(|(s, _)| match (s, at) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(s), Some(at)) => s.iter().all(|k| at.contains(k)),
        })
        .flat_map(|(_, c)| c.iter().copied())
        .collect()
}

/// Who a stratum asks about, for the static test of which statements may name it.
#[derive(Clone, Copy, Debug)]
enum Target<'a> {
    /// Anonymous callers and callers of accounts outside `known`.
    Anyone { known: &'a [String] },
    /// Callers of an account.
    Account(&'a str),
    /// One principal (an ARN).
    Named(&'a str),
    /// An identity provider's web-identity callers (never among anyone's callers).
    Provider(&'a str),
}

/// Whether statement `s`'s principal element may name callers of `target`: `false` is certain
/// (every entry is a literal naming other accounts or providers), `true` is for the solver to
/// confirm.
fn may_name(s: &Statement, target: Target<'_>) -> bool {
    let Some(clause) = &s.principal else { return false };
    let entries = match &clause.set {
        _ if clause.negated => return true,
        PrincipalSet::Any => return true,
        PrincipalSet::Named(entries) => entries,
    };
    entries.iter().any(|e| entry_may_name(e, target))
}

/// [`may_name`] for one entry of a `Principal` map.
fn entry_may_name(e: &PrincipalEntry, target: Target<'_>) -> bool {
    let value = e.value.as_str();
    if value.contains(['*', '?']) || e.kind == PrincipalKind::CanonicalUser {
        return true;
    }
    let runs: Vec<&str> = principal::account_runs(value).collect();
    match (target, e.kind) {
        (_, PrincipalKind::Service) => false,
        (Target::Anyone { .. }, PrincipalKind::Federated) => false,
        (Target::Anyone { known }, _) => {
            runs.is_empty() || runs.iter().any(|r| !known.iter().any(|k| k == r))
        }
        // A principal's own ARN is its own target: the account's callers exclude it.
        (Target::Account(_), PrincipalKind::Aws)
            if value.starts_with("arn:") && !value.ends_with(":root") =>
        {
            false
        }
        (Target::Account(account), _) => runs.is_empty() || runs.contains(&account),
        (Target::Named(name) | Target::Provider(name), _) => {
            value == name
                || runs.is_empty()
                || principal::account_runs(name).any(|r| runs.contains(&r))
        }
    }
}

/// Whether statement `s` may name `target` otherwise than as one of everyone (`"*"`): its
/// other statements treat the target's callers as those of any account the policy does not
/// name, which the more general principal's findings cover (see [`treats_apart`]).
fn names_in_particular(s: &Statement, target: Target<'_>) -> bool {
    let Some(clause) = &s.principal else { return false };
    match &clause.set {
        _ if clause.negated => true,
        PrincipalSet::Any => false,
        PrincipalSet::Named(entries) => entries.iter().any(|e| {
            !(e.kind == PrincipalKind::Aws && e.value == "*") && entry_may_name(e, target)
        }),
    }
}

/// Keys whose values name accounts or principals: a condition on one may single out callers a
/// `Principal` element does not.
const IDENTIFYING_KEYS: &[&str] = &[
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgpaths",
    "aws:userid",
    "aws:username",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
];

/// Whether policy `p` may treat callers of `target` unlike those of an account it does not
/// name, beyond the statements that name the target in particular: a condition on an
/// identifying key anywhere, a `NotPrincipal`, or the target's account (or ARN) written in
/// the resources or condition values of any other statement (in a `Principal` element it
/// names a principal with findings of its own). When it does not, what the target's callers
/// get from the other statements is what everyone gets; a `Deny` that names the target only
/// takes away.
fn treats_apart(p: &Policy, target: Target<'_>) -> bool {
    let texts: Vec<&str> = match target {
        // Anyone's callers are not web identities: nothing else covers a provider's.
        Target::Anyone { .. } | Target::Provider(_) => return true,
        Target::Account(account) => vec![account],
        Target::Named(name) => {
            let mut t = vec![name];
            t.extend(principal::account_runs(name));
            t
        }
    };
    p.statements.iter().any(|s| {
        let negated = s.principal.as_ref().is_some_and(|c| c.negated);
        let identifying =
            s.conditions.iter().any(|c| IDENTIFYING_KEYS.contains(&c.key_lower.as_str()));
        let mentions = |text: &str| texts.iter().any(|t| text.contains(t));
        let elsewhere = !names_in_particular(s, target)
            && (s.resource.iter().flat_map(|c| &c.resources).any(|r| mentions(&r.raw))
                || s.conditions.iter().flat_map(|c| &c.values).any(|v| mentions(&v.raw)));
        negated || identifying || elsewhere
    })
}

/// The findings for resource policy `p` of a resource in `owner`, with `trust` the accounts
/// of the zone of trust besides the owner. `Err` carries an unknown answer's reason or a
/// replay bug.
pub fn external(
    p: &Policy,
    owner: &str,
    trust: &[String],
    solver: &mut dyn Solver,
) -> Result<Vec<Finding>, String> {
    let query = Query::new(&[p], &[], View::Resource { owner: owner.to_string() })
        .map_err(|Unsupported(why)| why)?;
    let mut zone: Vec<String> = trust.to_vec();
    zone.push(owner.to_string());
    let accounts = accounts_in(p);
    let mut known = accounts.clone();
    known.extend(zone.iter().cloned());
    // The `AWS` principal ARNs the policy names (not `*` or accounts).
    let named = principal::named(&[p], PrincipalKind::Aws, |v| {
        v.starts_with("arn:") && !v.ends_with(":root")
    });
    // Whether a caller of `kind` is the principal `value` names (directly or as its role).
    let is = |kind: Kind, value: &str| {
        let [d, r, _] =
            principal::entry(kind, query.principal, query.session, PrincipalKind::Aws, value);
        Formula::or(vec![d, r])
    };
    let mut run = Run::new(&query, p, solver)?;

    // 1. Anyone: an anonymous caller or any caller of an account the policy does not name.
    let anyone: Who = Box::new(|kind| {
        if matches!(kind, Kind::Service | Kind::WebIdentity) {
            Formula::False
        } else {
            query.account_outside(kind, &known)
        }
    });
    let everyone = Target::Anyone { known: &known };
    let public = run.principal(("AWS", "*"), true, everyone, &anyone, &Found::new())?;
    // 2. Each outside account the policy names, then each principal of it the policy names.
    for account in accounts.iter().filter(|a| !zone.contains(a)) {
        let in_account: Who = Box::new(|kind| {
            if !kind.is_iam() {
                return Formula::False;
            }
            let mut parts = vec![principal::in_account(kind, query.principal, account)];
            // Its principals the policy names have findings of their own.
            for value in named.iter().filter(|v| account_in_arn(v) == Some(account.as_str())) {
                parts.push(is(kind, value).negate());
            }
            Formula::and(parts)
        });
        let target = Target::Account(account);
        let granted = run.principal(("AWS", account), false, target, &in_account, &public)?;
        let mut exclude = public.clone();
        for (stratum, classes) in granted {
            exclude.entry(stratum).or_default().extend(classes);
        }
        for value in
            named.iter().filter(|v| policy::request::account_in_arn(v) == Some(account.as_str()))
        {
            let this: Who = Box::new(|kind| is(kind, value));
            run.principal(("AWS", value), false, Target::Named(value), &this, &exclude)?;
        }
    }
    // 3. Identity providers the policy names.
    for provider in principal::named(&[p], PrincipalKind::Federated, |_| true) {
        let this: Who = Box::new(|kind| {
            if kind == Kind::WebIdentity {
                Formula::In(query.principal, crate::ir::Re::Lit(provider.clone()))
            } else {
                Formula::False
            }
        });
        let target = Target::Provider(&provider);
        run.principal(("Federated", &provider), false, target, &this, &public)?;
    }
    Ok(run.findings)
}

/// Most pin sets one statement contributes (the product of the values it names per key);
/// beyond, its values are left to the stratum with the keys free.
const MAX_PIN_SETS: usize = 32;

/// A set of fixing keys pinned to values.
type Pins = Vec<(String, Pin)>;

/// The fixing keys a policy compares, each with the values it names.
type Fixing = Vec<(String, Vec<Pin>)>;

struct Run<'a, 's> {
    query: &'a Query,
    policy: &'a Policy,
    solver: &'s mut dyn Solver,
    findings: Vec<Finding>,
    /// The request space and the policy's formula, per caller kind (or why the kind cannot
    /// be encoded: an error only if a principal asks about callers of that kind).
    encoded: Vec<(Kind, Result<Formula, String>)>,
    /// The fixing keys and values the policy names, per caller kind.
    fixing: Vec<(Kind, Fixing)>,
    /// Per statement: its action classes and the pin sets it is asked under (the values its
    /// conditions name, and none pinned where it may hold with every fixing key fresh).
    statements: Vec<(Vec<usize>, Vec<Pins>)>,
    /// Per `Deny` statement with negated conditions: its action classes and the values those
    /// conditions name (holding one escapes the `Deny`).
    deny_pins: Vec<(Vec<usize>, Pins)>,
}

impl<'a, 's> Run<'a, 's> {
    fn new(
        query: &'a Query,
        policy: &'a Policy,
        solver: &'s mut dyn Solver,
    ) -> Result<Self, String> {
        let mut encoded = Vec::new();
        let mut fixing = Vec::new();
        for kind in Kind::ALL {
            let f = encode_expected(query, &[(policy, true)], Some(kind))
                .map_err(|Unsupported(why)| why);
            encoded.push((kind, f));
            fixing.push((kind, query.fixing_values(kind, FIXING_KEYS, &[policy])));
        }
        let statements = policy
            .statements
            .iter()
            .map(|s| {
                let mut sets: Vec<Pins> =
                    pin_sets(query, s).into_iter().filter(|p| !p.is_empty()).collect();
                if may_hold_fresh(s) {
                    sets.push(Vec::new());
                }
                (query.actions.of_clause(&s.action), sets)
            })
            .collect();
        // A `Deny` whose negated condition names a value is escaped by holding that value.
        let mut deny_pins = Vec::new();
        for s in policy.statements.iter().filter(|s| s.effect == Effect::Deny) {
            let mut negated = s.clone();
            negated.conditions.retain(|c| c.operator.kind.is_negated());
            let pins: Pins = query
                .fixing_values_of(Kind::Anonymous, FIXING_KEYS, &[&negated])
                .into_iter()
                .flat_map(|(k, pins)| pins.into_iter().map(move |p| (k.clone(), p)))
                .collect();
            if !pins.is_empty() {
                deny_pins.push((query.actions.of_clause(&s.action), pins));
            }
        }
        Ok(Run {
            query,
            policy,
            solver,
            findings: Vec::new(),
            encoded,
            fixing,
            statements,
            deny_pins,
        })
    }

    /// Every stratum of conditions for one principal, skipping what `general` (findings for
    /// more general principals) covers; returns what it found per stratum.
    fn principal(
        &mut self,
        principal: (&str, &str),
        is_public: bool,
        target: Target<'_>,
        who: &Who,
        general: &Found,
    ) -> Result<Found, String> {
        let mut found = Found::new();
        // The classes and pin sets of the `Allow` statements that may name the principal.
        let mut reach: Vec<usize> = Vec::new();
        // The classes of those that name it in particular.
        let mut particular: Vec<usize> = Vec::new();
        let mut levels: BTreeMap<usize, Vec<(Pins, Vec<usize>)>> = BTreeMap::new();
        for (s, (classes, pin_sets)) in self.policy.statements.iter().zip(&self.statements) {
            if s.effect != Effect::Allow || !may_name(s, target) {
                continue;
            }
            add_classes(&mut reach, classes);
            if names_in_particular(s, target) {
                add_classes(&mut particular, classes);
            }
            for pins in pin_sets {
                add_candidate(&mut levels, pins.clone(), classes);
            }
        }
        // Nothing beyond what a more general principal gets unconditionally: no news.
        let unconditional = subsumed(general, &Some(Vec::new()));
        if reach.iter().all(|c| unconditional.contains(c)) {
            return Ok(found);
        }
        // The policy with the principal's own constraint, simplified once for its queries
        // (when there are any).
        let mut base: Option<Vec<(Kind, Formula)>> = None;
        // Candidates a `Deny`'s value was added to (not extended again).
        let mut extended: Vec<Pins> = Vec::new();
        while let Some((_, candidates)) = levels.pop_first() {
            for (pinned, classes) in candidates {
                let at = stratum(Some(&pinned));
                let mut exclude = subsumed(general, &at);
                exclude.extend(subsumed(&found, &at));
                let wanted: Vec<usize> =
                    classes.iter().filter(|c| !exclude.contains(c)).copied().collect();
                if wanted.is_empty() {
                    continue;
                }
                self.base(&mut base, who)?;
                let (got, witness) =
                    self.actions(base.as_deref().unwrap_or_default(), Some(&pinned), &wanted)?;
                if let Some(witness) = witness {
                    let condition =
                        pinned.iter().map(|(k, p)| (k.clone(), vec![p.text()])).collect();
                    self.push(principal, is_public, &got, condition, witness);
                }
                // What a `Deny` keeps out may come in with one of its values as well (one
                // level deep: anything deeper is left to the stratum with the keys free).
                let missing: Vec<usize> =
                    wanted.iter().filter(|c| !got.contains(c)).copied().collect();
                if !missing.is_empty() && !extended.contains(&pinned) {
                    for (classes, pins) in &self.deny_pins {
                        if !classes.iter().any(|c| missing.contains(c)) {
                            continue;
                        }
                        for extra in pins.iter().filter(|(k, _)| pinned.iter().all(|(p, _)| p != k))
                        {
                            let mut more = pinned.clone();
                            more.push(extra.clone());
                            more.sort_by_key(|(k, p)| (k.clone(), p.text()));
                            extended.push(more.clone());
                            add_candidate(&mut levels, more, &missing);
                        }
                    }
                }
                found.entry(at).or_default().extend(got);
            }
        }
        // Deeper: the fixing keys free; the condition is what the witness holds. Only what a
        // more general principal gets unconditionally subsumes it.
        let mut exclude = subsumed(general, &Some(Vec::new()));
        exclude.extend(subsumed(&found, &None));
        // Unless the policy treats the principal apart, the statements that name it only as
        // one of everyone give it what the more general principal's findings say.
        let scope = if treats_apart(self.policy, target) { &reach } else { &particular };
        let wanted: Vec<usize> = scope.iter().filter(|c| !exclude.contains(c)).copied().collect();
        if wanted.is_empty() {
            return Ok(found);
        }
        self.base(&mut base, who)?;
        let (mut classes, witness) =
            self.actions(base.as_deref().unwrap_or_default(), None, &wanted)?;
        if let Some(witness) = witness {
            let keys: Vec<String> = FIXING_KEYS.iter().map(|k| k.to_lowercase()).collect();
            let condition: Vec<(String, Vec<String>)> = witness
                .context
                .iter()
                .filter(|(k, _, _)| keys.contains(k))
                .map(|(k, v, _)| (k.clone(), v.clone()))
                .collect();
            // What a more general principal gets under a subset of these values is no news.
            let mut at: Vec<String> = condition
                .iter()
                .flat_map(|(k, vs)| vs.iter().map(move |v| format!("{k}={v}")))
                .collect();
            at.sort();
            let covered = subsumed(general, &Some(at));
            classes.retain(|c| !covered.contains(c));
            if !classes.is_empty() {
                self.push(principal, is_public, &classes, condition, witness);
            }
        }
        found.insert(None, classes);
        Ok(found)
    }

    /// Per caller kind: the policy allows and the caller is `who`, simplified (once: `cache`).
    fn base(&mut self, cache: &mut Option<Vec<(Kind, Formula)>>, who: &Who) -> Result<(), String> {
        if cache.is_some() {
            return Ok(());
        }
        let mut out = Vec::new();
        for (kind, f) in &self.encoded {
            let own = who(*kind);
            if own != Formula::False {
                let f = Formula::and(vec![f.clone()?, own]);
                out.push((*kind, self.solver.simplify(&f)));
            }
        }
        *cache = Some(out);
        Ok(())
    }

    /// The classes of `wanted` the callers `base` holds for (per kind: the policy allows and
    /// the caller is the principal asked about) get, with the fixing keys fresh but `pinned`
    /// (or free when `None`), and the first witness.
    fn actions(
        &mut self,
        base: &[(Kind, Formula)],
        pinned: Option<&[(String, Pin)]>,
        wanted: &[usize],
    ) -> Result<(Vec<usize>, Option<Witness>), String> {
        let mut found: Vec<usize> = Vec::new();
        let mut first = None;
        loop {
            let remaining: Vec<usize> =
                wanted.iter().filter(|c| !found.contains(c)).copied().collect();
            if remaining.is_empty() {
                break;
            }
            let (query, policy, fixing) = (self.query, self.policy, &self.fixing);
            let cached = |kind: Option<Kind>| {
                Ok(base
                    .iter()
                    .find(|(k, _)| Some(*k) == kind)
                    .map_or(Formula::False, |(_, f)| f.clone()))
            };
            let answer = search_encoded(self.solver, query, &[(policy, true)], cached, |kind| {
                let Some(kind) = kind else { return Ok(Formula::False) };
                if !base.iter().any(|(k, _)| *k == kind) {
                    return Ok(Formula::False);
                }
                let keys = match pinned {
                    Some(pinned) => {
                        let values = fixing.iter().find(|(k, _)| *k == kind).map(|(_, v)| v);
                        query.fresh_keys(values.map_or(&[][..], |v| v.as_slice()), pinned)
                    }
                    None => Formula::True,
                };
                Ok(Formula::and(vec![keys, Formula::ActionIn(remaining.clone())]))
            });
            match answer {
                Answer::Yes(w) => {
                    let Some(class) = self
                        .query
                        .actions
                        .classes
                        .iter()
                        .position(|c| c.first() == Some(&w.action))
                    else {
                        return Err(format!("the witness action {} has no class", w.action));
                    };
                    if !remaining.contains(&class) {
                        return Err(format!("bug: the witness action {} was not asked", w.action));
                    }
                    found.push(class);
                    first.get_or_insert(w);
                }
                Answer::No => break,
                Answer::Unknown(why) => return Err(why),
                Answer::Bug(why) => return Err(format!("bug: {why}")),
            }
        }
        Ok((found, first))
    }

    fn push(
        &mut self,
        principal: (&str, &str),
        is_public: bool,
        classes: &[usize],
        condition: Vec<(String, Vec<String>)>,
        witness: Witness,
    ) {
        let mut actions: Vec<String> =
            classes.iter().flat_map(|c| self.query.actions.members(*c)).collect();
        actions.sort();
        actions.dedup();
        self.findings.push(Finding {
            principal: (principal.0.to_string(), principal.1.to_string()),
            is_public,
            actions,
            condition,
            witness,
        });
    }
}

/// Whether statement `s` may hold with every fixing key absent or fresh: unless one of its
/// conditions on a fixing key needs a value the policy names (a positive comparison with
/// literal texts or address ranges, without `IfExists` or `ForAllValues`). A `false` here only
/// moves a finding to the stratum with the keys free.
fn may_hold_fresh(s: &Statement) -> bool {
    use policy::condition::{SetQualifier, Typed, ValueType};
    use policy::value::IpNet;
    !s.conditions.iter().any(|c| {
        let fixing = FIXING_KEYS.iter().any(|k| k.eq_ignore_ascii_case(&c.key));
        let positive = !c.operator.kind.is_negated()
            && !c.operator.if_exists
            && c.operator.qualifier != SetQualifier::ForAllValues;
        let literal = match c.operator.kind.value_type() {
            // `/0` holds for every address, fresh ones too.
            ValueType::Ip => !c.values.iter().any(|v| {
                matches!(v.typed, Typed::Ip(IpNet::V4(_, 0)) | Typed::Ip(IpNet::V6(_, 0)))
            }),
            ValueType::String | ValueType::Arn => {
                !c.operator.kind.has_wildcards()
                    || c.values.iter().all(|v| !v.raw.contains(['*', '?']))
            }
            _ => false,
        };
        fixing && positive && literal && !c.values.is_empty()
    })
}

/// Adds `classes` under `pins` to the candidates, one level per number of keys pinned.
fn add_candidate(
    levels: &mut BTreeMap<usize, Vec<(Pins, Vec<usize>)>>,
    mut pins: Pins,
    classes: &[usize],
) {
    pins.sort_by_key(|(k, p)| (k.clone(), p.text()));
    let level = levels.entry(pins.len()).or_default();
    match level.iter_mut().find(|(p, _)| *p == pins) {
        Some((_, known)) => add_classes(known, classes),
        None => level.push((pins, classes.to_vec())),
    }
}

/// Adds the classes `into` does not have yet.
fn add_classes(into: &mut Vec<usize>, classes: &[usize]) {
    for c in classes {
        if !into.contains(c) {
            into.push(*c);
        }
    }
}

/// The pin sets statement `s`'s conditions name: one value per fixing key it compares, every
/// combination (none when there are more than [`MAX_PIN_SETS`]).
fn pin_sets(query: &Query, s: &Statement) -> Vec<Pins> {
    let mut sets: Vec<Pins> = vec![Vec::new()];
    for (key, pins) in query.fixing_values_of(Kind::Anonymous, FIXING_KEYS, &[s]) {
        if pins.is_empty() {
            continue;
        }
        let mut next = Vec::new();
        for set in &sets {
            for pin in &pins {
                let mut more = set.clone();
                more.push((key.clone(), pin.clone()));
                next.push(more);
            }
        }
        if next.len() > MAX_PIN_SETS {
            return Vec::new();
        }
        sets = next;
    }
    sets
}
