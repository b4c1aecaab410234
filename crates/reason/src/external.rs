//! `external` (decision 006, §5): which callers outside a zone of trust a resource policy lets
//! in, summarised as Access Analyzer findings: the principal (`*`, an account, an ARN or an
//! identity provider), the actions, and the condition under which, found by increasingly
//! specific queries (anyone, then each account the policy names, then each principal it
//! names; first with every fixing key absent or fresh, then with one key pinned to a value the
//! policy names, then two, then with the keys free). Actions a more general finding already
//! grants are not repeated in a more specific one.

use crate::encode::{Pin, Query, Unsupported, View};
use crate::ir::Formula;
use crate::principal::{self, Kind};
use crate::{accounts_in, search, Answer, Solver, Witness, FIXING_KEYS};
use policy::ast::PrincipalKind;
use policy::Policy;

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
type Found = std::collections::BTreeMap<Option<Vec<String>>, Vec<usize>>;

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
    let mut run = Run { query: &query, policy: p, solver, findings: Vec::new() };

    // 1. Anyone: an anonymous caller or any caller of an account the policy does not name.
    let anyone: Who = Box::new(|kind| {
        if matches!(kind, Kind::Service | Kind::WebIdentity) {
            Formula::False
        } else {
            query.account_outside(kind, &known)
        }
    });
    let public = run.principal(("AWS", "*"), true, &anyone, &Found::new())?;
    // 2. Each outside account the policy names, then each principal of it the policy names.
    for account in accounts.iter().filter(|a| !zone.contains(a)) {
        let in_account: Who = Box::new(|kind| {
            if !kind.is_iam() {
                return Formula::False;
            }
            let mut parts = vec![principal::in_account(kind, query.principal, account)];
            for value in &named {
                parts.push(is(kind, value).negate());
            }
            Formula::and(parts)
        });
        let granted = run.principal(("AWS", account), false, &in_account, &public)?;
        let mut exclude = public.clone();
        for (stratum, classes) in granted {
            exclude.entry(stratum).or_default().extend(classes);
        }
        for value in named.iter().filter(|v| v.contains(account.as_str())) {
            let this: Who = Box::new(|kind| is(kind, value));
            run.principal(("AWS", value), false, &this, &exclude)?;
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
        run.principal(("Federated", &provider), false, &this, &public)?;
    }
    Ok(run.findings)
}

struct Run<'a, 's> {
    query: &'a Query,
    policy: &'a Policy,
    solver: &'s mut dyn Solver,
    findings: Vec<Finding>,
}

impl Run<'_, '_> {
    /// Every stratum of conditions for one principal, skipping what `general` (findings for
    /// more general principals) covers; returns what it found per stratum.
    fn principal(
        &mut self,
        principal: (&str, &str),
        is_public: bool,
        who: &Who,
        general: &Found,
    ) -> Result<Found, String> {
        let mut found = Found::new();
        // What the principal reaches at all (the fixing keys free) beyond what a more general
        // principal gets unconditionally: nothing, and no stratum needs asking.
        let unconditional = subsumed(general, &Some(Vec::new()));
        let (reachable, _) = self.actions(who, None, &unconditional)?;
        if reachable.is_empty() {
            return Ok(found);
        }
        let all = self.query.actions.classes.len();
        let outside: Vec<usize> = (0..all).filter(|c| !reachable.contains(c)).collect();
        let pins = self.pins();
        let singles: Vec<Vec<(String, Pin)>> =
            std::iter::once(Vec::new()).chain(pins.iter().map(|p| vec![p.clone()])).collect();
        let mut pairs: Vec<Vec<(String, Pin)>> = Vec::new();
        for (i, a) in pins.iter().enumerate() {
            for b in pins.iter().skip(i + 1).filter(|b| b.0 != a.0) {
                pairs.push(vec![a.clone(), b.clone()]);
            }
        }
        for (level, strata) in [singles, pairs].into_iter().enumerate() {
            let explained: Vec<usize> = found.values().flatten().copied().collect();
            if level > 0 && reachable.iter().all(|c| explained.contains(c)) {
                break;
            }
            for pinned in &strata {
                let at = stratum(Some(pinned));
                let mut exclude = subsumed(general, &at);
                exclude.extend(subsumed(&found, &at));
                exclude.extend(outside.iter().copied());
                if (0..all).all(|c| exclude.contains(&c)) {
                    continue;
                }
                let (classes, witness) = self.actions(who, Some(pinned), &exclude)?;
                if let Some(witness) = witness {
                    let condition =
                        pinned.iter().map(|(k, p)| (k.clone(), vec![p.text()])).collect();
                    self.push(principal, is_public, &classes, condition, witness);
                }
                found.insert(at, classes);
            }
        }
        // Deeper: the fixing keys free; the condition is what the witness holds. Only what a
        // more general principal gets unconditionally subsumes it.
        let mut exclude = subsumed(general, &Some(Vec::new()));
        exclude.extend(subsumed(&found, &None));
        exclude.extend(outside.iter().copied());
        if (0..all).all(|c| exclude.contains(&c)) {
            return Ok(found);
        }
        let (mut classes, witness) = self.actions(who, None, &exclude)?;
        if let Some(witness) = witness {
            let keys: Vec<String> = pins.iter().map(|(k, _)| k.clone()).collect();
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

    /// The fixing keys and values the policy names (for any caller kind).
    fn pins(&self) -> Vec<(String, Pin)> {
        self.query
            .fixing_values(Kind::Anonymous, FIXING_KEYS, &[self.policy])
            .into_iter()
            .flat_map(|(k, pins)| pins.into_iter().map(move |p| (k.clone(), p)))
            .collect()
    }

    /// The action classes (outside `exclude`) callers of `who` get, with the fixing keys fresh
    /// but `pinned` (or free when `None`), and the first witness.
    fn actions(
        &mut self,
        who: &Who,
        pinned: Option<&[(String, Pin)]>,
        exclude: &[usize],
    ) -> Result<(Vec<usize>, Option<Witness>), String> {
        let classes = self.query.actions.classes.len();
        let mut found: Vec<usize> = Vec::new();
        let mut first = None;
        loop {
            let remaining: Vec<usize> =
                (0..classes).filter(|c| !found.contains(c) && !exclude.contains(c)).collect();
            if remaining.is_empty() {
                break;
            }
            let query = self.query;
            let policy = self.policy;
            let answer = search(self.solver, query, &[(policy, true)], |kind| {
                let Some(kind) = kind else { return Ok(Formula::False) };
                let keys = match pinned {
                    Some(pinned) => {
                        query.fresh_keys(&query.fixing_values(kind, FIXING_KEYS, &[policy]), pinned)
                    }
                    None => Formula::True,
                };
                Ok(Formula::and(vec![who(kind), keys, Formula::ActionIn(remaining.clone())]))
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
