//! The finite request space of decision 006 §7, shared by the brute-force tests: callers,
//! actions (one per class), resources (the policies' patterns with their wildcards and
//! variables filled in) and contexts (each key the policies compare absent, or holding values
//! near the ones they name).

#![allow(dead_code)]

use policy::condition::{OpKind, SetQualifier, Typed};
use policy::pattern::{Glob, Piece, Tok};
use policy::value::IpNet;
use reason::encode::Actions;
use reason::Witness;
use std::collections::BTreeMap;

/// Who makes the requests.
pub enum Callers<'a> {
    /// IAM users of 111122223333, named from the policies' `aws:username` values and a few more.
    Identity,
    /// These principals (ARNs, `*` for anonymous, service names).
    Given(&'a [String]),
}

/// Whether `text` can name an IAM user (`[A-Za-z0-9+=,.@_-]+`): the reasoner's space
/// (`reason::principal::name`, decision 006 §3) holds no other user, so neither does this one.
fn iam_name(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// Keys the evaluator derives from the caller: never set in a context.
const DERIVED: &[&str] = &[
    "aws:username",
    "aws:userid",
    "aws:principalarn",
    "aws:principaltype",
    "aws:principalaccount",
    "aws:principalisawsservice",
    "aws:principalservicename",
    "aws:resourceaccount",
];

/// Every request of the space, or `None` when there would be more than `cap`.
pub fn requests(
    policies: &[&policy::Policy],
    callers: Callers<'_>,
    cap: usize,
) -> Option<Vec<Witness>> {
    let actions: Vec<String> =
        Actions::new(policies, &[]).classes.iter().filter_map(|c| c.first().cloned()).collect();
    let mut users = vec!["analyst".to_string(), "bob".to_string(), "a".to_string()];
    let mut keys: BTreeMap<String, (Vec<String>, bool)> = BTreeMap::new();
    let mut resources = vec!["*".to_string(), "arn:aws:s3:::other/x".to_string()];
    let mut patterns: Vec<Vec<Piece>> = Vec::new();
    // Condition values with variables: (key, operator, pieces).
    let mut templated: Vec<(String, OpKind, Vec<Piece>)> = Vec::new();
    for p in policies {
        for s in &p.statements {
            for r in s.resource.iter().flat_map(|c| c.resources.iter()) {
                patterns.push(r.template.pieces().to_vec());
            }
            for c in &s.conditions {
                let multi =
                    c.operator.qualifier != SetQualifier::Single || c.key_lower == "aws:tagkeys";
                let entry = keys.entry(c.key_lower.clone()).or_insert((Vec::new(), multi));
                entry.1 |= multi;
                for v in &c.values {
                    if v.template.has_variables() {
                        // Filled in later, with the users and the tag values.
                        templated.push((
                            c.key_lower.clone(),
                            c.operator.kind,
                            v.template.pieces().to_vec(),
                        ));
                        continue;
                    }
                    let values = domain(c.operator.kind, &v.raw, &v.typed);
                    if c.key_lower == "aws:username" {
                        users.extend(values.iter().filter(|u| iam_name(u)).cloned());
                    }
                    entry.0.extend(values);
                }
            }
        }
    }
    // Variables draw from the users and a few values of their keys.
    let team_values = ["analyst", "none", "t"];
    let fill = |pieces: &[Piece], user: &str, team: &str| -> Vec<Tok> {
        let mut text = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Toks(t) => text.extend(t.iter().cloned()),
                Piece::Var { key_lower, .. } => {
                    let v = if key_lower == "aws:username" { user } else { team };
                    text.extend(v.chars().map(Tok::Char));
                }
                Piece::Invalid(_) => {}
            }
        }
        text
    };
    for (key, kind, pieces) in &templated {
        let mut values = Vec::new();
        for user in &users {
            for team in team_values {
                let text = Glob::from_toks(fill(pieces, user, team)).text();
                values.extend(domain(*kind, &text, &Typed::Text));
            }
        }
        if let Some(entry) = keys.get_mut(key) {
            entry.0.extend(values);
        }
    }
    for pieces in &patterns {
        for user in &users {
            for team in team_values {
                let text = fill(pieces, user, team);
                resources.extend(instantiate(&text));
            }
        }
    }
    resources.sort();
    resources.dedup();
    users.sort();
    users.dedup();
    // Context assignments: each key absent, or one value (single), or lists of one or two.
    let mut contexts: Vec<Vec<(String, Vec<String>, bool)>> = vec![Vec::new()];
    let team_key = (
        "aws:principaltag/team".to_string(),
        team_values.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        false,
    );
    let mut all_keys: Vec<(String, Vec<String>, bool)> = keys
        .into_iter()
        .filter(|(k, _)| !DERIVED.contains(&k.as_str()))
        .map(|(k, (mut v, multi))| {
            v.sort();
            v.dedup();
            (k, v, multi)
        })
        .collect();
    if patterns
        .iter()
        .chain(templated.iter().map(|(_, _, p)| p))
        .flatten()
        .any(|p| matches!(p, Piece::Var { key_lower, .. } if key_lower == "aws:principaltag/team"))
        && !all_keys.iter().any(|(k, _, _)| k == "aws:principaltag/team")
    {
        all_keys.push(team_key);
    }
    for (key, values, multi) in all_keys {
        let mut options: Vec<Option<Vec<String>>> = vec![None];
        for v in &values {
            options.push(Some(vec![v.clone()]));
        }
        if multi {
            for v in &values {
                for w in &values {
                    if v < w {
                        options.push(Some(vec![v.clone(), w.clone()]));
                    }
                }
            }
        }
        if contexts.len() * options.len() > cap {
            return None;
        }
        let mut next = Vec::new();
        for ctx in &contexts {
            for o in &options {
                let mut c = ctx.clone();
                if let Some(values) = o {
                    c.push((key.clone(), values.clone(), multi));
                }
                next.push(c);
            }
        }
        contexts = next;
    }
    let principals: Vec<String> = match callers {
        Callers::Identity => {
            users.iter().map(|u| format!("arn:aws:iam::111122223333:user/{u}")).collect()
        }
        Callers::Given(list) => list.to_vec(),
    };
    if principals.len() * actions.len() * resources.len() * contexts.len() > cap {
        return None;
    }
    let mut out = Vec::new();
    for principal in &principals {
        for action in &actions {
            for resource in &resources {
                for context in &contexts {
                    out.push(Witness {
                        principal: principal.clone(),
                        action: action.clone(),
                        resource: resource.clone(),
                        context: context.clone(),
                    });
                }
            }
        }
    }
    Some(out)
}

/// Texts a pattern's wildcards can stand for.
pub fn instantiate(toks: &[Tok]) -> Vec<String> {
    let mut out = vec![String::new()];
    for t in toks {
        let options: &[&str] = match t {
            Tok::Char(_) => &[""],
            Tok::Star => &["", "x", "x:y"],
            Tok::One => &["x"],
        };
        let mut next = Vec::new();
        for prefix in &out {
            for o in options {
                let mut p = prefix.clone();
                match t {
                    Tok::Char(c) => p.push(*c),
                    _ => p.push_str(o),
                }
                next.push(p);
            }
        }
        out = next;
        out.truncate(200);
    }
    out
}

/// Request values near a condition value: the value itself, its instantiations and case
/// variants, neighbours of numbers and dates, addresses at the edges of ranges, malformed text.
pub fn domain(kind: OpKind, raw: &str, typed: &Typed) -> Vec<String> {
    let mut out = vec!["zz".to_string(), "x".to_string()];
    match typed {
        Typed::Number(n) => {
            for d in [-1.0, -0.25, 0.0, 0.25, 1.0] {
                out.push(format!("{}", n + d));
            }
        }
        Typed::Date(t) => {
            for d in [-1, 0, 1] {
                out.push((t.secs + d).to_string());
            }
        }
        Typed::Bool(_) => out.extend(["true".to_string(), "false".to_string()]),
        Typed::Binary(_) => {
            // The value, padded and bare, its other case (other bytes), and its last character
            // changed (the same bytes when only unused bits change).
            let bare = raw.trim_end_matches('=');
            out.extend([raw.to_string(), bare.to_string(), format!("{bare}="), raw.to_lowercase()]);
            if let Some(last) = bare.chars().last() {
                let next = char::from_u32(u32::from(last) + 1).unwrap_or(last);
                out.push(format!("{}{next}", &bare[..bare.len() - last.len_utf8()]));
            }
        }
        Typed::Ip(net) => match net {
            IpNet::V4(a, p) => {
                let last = a | (u32::MAX.checked_shr(u32::from(*p)).unwrap_or(0));
                for x in [*a, last, a.wrapping_sub(1), last.wrapping_add(1)] {
                    out.push(std::net::Ipv4Addr::from(x).to_string());
                }
                out.push(format!("::ffff:{}", std::net::Ipv4Addr::from(*a)));
            }
            IpNet::V6(a, p) => {
                let last = a | (u128::MAX.checked_shr(u32::from(*p)).unwrap_or(0));
                for x in [*a, last, a.wrapping_sub(1)] {
                    out.push(std::net::Ipv6Addr::from(x).to_string());
                }
            }
        },
        _ => {
            let toks: Vec<Tok> = if kind.has_wildcards() {
                policy::pattern::Glob::new(raw, true).toks().to_vec()
            } else {
                raw.chars().map(Tok::Char).collect()
            };
            for s in instantiate(&toks) {
                out.push(s.to_uppercase());
                out.push(s.to_lowercase());
                out.push(s);
            }
        }
    }
    out
}
