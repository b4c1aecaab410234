//! Policies as [`Formula`]s in the identity view of decision 006 (§5): the caller is an IAM user
//! of [`ACCOUNT`](crate::ACCOUNT) with a symbolic name, acting on its own account's resources;
//! the request context is symbolic for every key the policies mention (§4.5–4.6). Constructs not
//! encoded yet are refused with the reason, which the caller reports as an unknown answer.

use crate::ir::{Cmp, Formula, Re, Sort, Term, Var, Vars};
use crate::principal::{self, Kind, Wrap};
use crate::solver::Model;
use policy::ast::PrincipalKind;
use policy::condition::{OpKind, Outcome, SetQualifier, Typed, ValueType};
use policy::pattern::{Glob, Piece, Tok};
use policy::value::IpNet;
use policy::{Effect, Policy, Statement};
use std::collections::{BTreeMap, HashMap};

/// Why a policy cannot be encoded (yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported(pub String);

fn unsupported<T>(why: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(why.into()))
}

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
                // A malformed action a lenient parse kept matches nothing: no pattern.
                for a in s.action.actions.iter().filter(|a| !a.never) {
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
        // Action names the policies spell out that the catalog does not know, and for every
        // wildcard pattern one name it matches (wildcards filled in): an action of a service or
        // name the catalog does not have is still an action a pattern may allow.
        for g in &patterns {
            let instance: String = g
                .toks()
                .iter()
                .map(|t| match t {
                    Tok::Char(c) => c.to_string(),
                    Tok::Star => "zz".to_string(),
                    Tok::One => "z".to_string(),
                })
                .collect();
            if let Some(lit) = g.literal().map(str::to_string).or(Some(instance)) {
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

    /// The classes an `Action` or `NotAction` element matches.
    pub fn of_clause(&self, clause: &policy::ast::ActionClause) -> Vec<usize> {
        let mut classes: Vec<usize> = Vec::new();
        for a in clause.actions.iter().filter(|a| !a.never) {
            for c in self.matching(&a.pattern) {
                if !classes.contains(&c) {
                    classes.push(c);
                }
            }
        }
        if clause.negated {
            (0..self.classes.len()).filter(|c| !classes.contains(c)).collect()
        } else {
            classes
        }
    }

    /// Every action of class `k`: its members, or for the class of actions no pattern names,
    /// every such catalog action.
    pub fn members(&self, k: usize) -> Vec<String> {
        let Some(class) = self.classes.get(k) else { return Vec::new() };
        let unnamed = class.first().is_some_and(|a| !self.patterns.iter().any(|p| p.matches(a)));
        if !unnamed {
            // Names only a filled-in wildcard produced stand for actions the catalog does not
            // know; they are listed only when the class has nothing else.
            let catalog = catalog_actions();
            let known: Vec<String> = class
                .iter()
                .filter(|a| {
                    catalog.binary_search(a).is_ok()
                        || self.patterns.iter().any(|p| p.literal() == Some(a.as_str()))
                })
                .cloned()
                .collect();
            return if known.is_empty() { class.clone() } else { known };
        }
        let named: std::collections::HashSet<&String> = self
            .classes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != k)
            .flat_map(|(_, c)| c.iter())
            .collect();
        catalog_actions().iter().filter(|a| !named.contains(a)).cloned().collect()
    }
}

/// The actions `policy::aws_rules` decides without the policies (those that need no
/// permission, those refused on AWS-owned resources), as patterns every query splits its
/// action classes by, so that each is a class of its own.
fn rule_globs() -> impl Iterator<Item = Glob> {
    policy::aws_rules::NO_PERMISSION_ACTIONS
        .iter()
        .chain(policy::aws_rules::AWS_OWNED.iter().flat_map(|rule| rule.actions.iter()))
        .map(|a| Glob::new(a, false))
}

/// The classes of `actions` whose members are among `names` (lowercase, each a class of its
/// own by [`rule_globs`]).
fn classes_named(actions: &Actions, names: &[&str]) -> Vec<usize> {
    let mut out = Vec::new();
    for name in names {
        for c in actions.matching(&Glob::new(name, false)) {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
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
/// never cross a `:`), as `Glob::matches_arn` does.
pub fn glob_re(glob: &Glob, arn: bool) -> Re {
    if let Some(lit) = glob.literal() {
        return Re::Lit(lit.to_string());
    }
    if glob.is_match_all() {
        return Re::all();
    }
    toks_re(glob.toks(), if arn { 5 } else { 0 })
}

/// Tokens as a regular language; wildcards before the `restricted`-th colon (at most as many
/// as the tokens have) do not match `:`.
fn toks_re(toks: &[Tok], restricted: usize) -> Re {
    let colons = toks.iter().filter(|t| **t == Tok::Char(':')).count();
    let restricted = restricted.min(colons);
    let mut seen = 0;
    let mut parts = Vec::new();
    let mut text = String::new();
    for tok in toks {
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
pub fn is_arn_pattern(glob: &Glob) -> bool {
    starts_arn(glob.toks())
}

fn starts_arn(toks: &[Tok]) -> bool {
    toks.starts_with(&[Tok::Char('a'), Tok::Char('r'), Tok::Char('n'), Tok::Char(':')])
}

/// How a resource element matches, as `Glob::matches_resource`.
pub fn resource_re(glob: &Glob) -> Re {
    glob_re(glob, is_arn_pattern(glob))
}

/// Whether the address ranges `(bits, value)` (top bits of a 128-bit value) cover every
/// address that starts with the top `depth` bits of `prefix`.
fn covers_every_address(ranges: &[(u8, u128)], depth: u32, prefix: u128) -> bool {
    let top = |x: u128, k: u32| if k == 0 { 0 } else { x >> (128 - k) };
    let mut deeper = false;
    for (bits, value) in ranges {
        let bits = u32::from(*bits).min(128);
        let shared = bits.min(depth);
        if top(*value, shared) != top(prefix, shared) {
            continue;
        }
        if bits <= depth {
            return true;
        }
        deeper = true;
    }
    if !deeper || depth >= 128 {
        return false;
    }
    let bit = 1u128 << (127 - depth);
    covers_every_address(ranges, depth + 1, prefix)
        && covers_every_address(ranges, depth + 1, prefix | bit)
}

/// How a template's resolved pattern matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Matching {
    /// As a resource element (`Glob::matches_resource`).
    Resource,
    /// As an ARN operator's value (`Glob::matches_arn`).
    Arn,
    /// As a string operator's value (`Glob::matches`).
    Glob,
}

/// The value type a context key is modelled with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    /// Text (String and ARN operators, or only `Null` and policy variables).
    Str,
    /// Numbers as integers scaled by `10^scale`.
    Num {
        scale: u32,
    },
    /// Dates as integer seconds, or nanoseconds when a constant has a fraction.
    Date {
        nanos: bool,
    },
    Bool,
    Ip,
}

/// A context key of the query: a count of values and that many slots.
#[derive(Clone, Debug)]
struct Key {
    family: Family,
    /// The least and greatest value of a number or date (scaled), covering every constant.
    bounds: (i128, i128),
    multi: bool,
    count: Var,
    /// Per slot: the value, and for typed families whether it is malformed.
    slots: Vec<(Var, Option<Var>)>,
}

/// The account and the caller's ARN prefix in the identity view.
const USER_PREFIX: &str = "arn:aws:iam::111122223333:user/";

/// Whose side a lone policy is read from (decision 006, §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum View {
    /// An identity policy of an IAM user of [`ACCOUNT`](crate::ACCOUNT) acting on its own
    /// account's resources (a resource policy that delegates to the account).
    Identity,
    /// A resource policy of a resource in account `owner`, facing every kind of caller; a
    /// caller from another account is assumed to be allowed by its own identity policies.
    Resource { owner: String },
    /// A whole scenario (identity policies, boundaries, session policies, a resource policy,
    /// SCPs, RCPs) for one given caller on resources of account `owner`.
    Caller { owner: String, principal: policy::Principal },
}

/// The request vocabulary of one question: action classes, variables, context keys.
#[derive(Clone, Debug)]
pub struct Query {
    pub view: View,
    pub actions: Actions,
    pub vars: Vars,
    /// The resource.
    pub resource: Var,
    /// The calling user's name (identity view).
    pub user: Var,
    /// The caller (resource view): its ARN, its role's ARN for a session, or its name.
    pub principal: Var,
    /// A role session's name (resource view).
    pub session: Var,
    keys: BTreeMap<String, Key>,
    /// Service principals the policies name.
    services: Vec<String>,
    /// SAML and OIDC providers (`Federated` ARNs) the policies name.
    providers: Vec<String>,
}

/// One statement as formulas: when it matches, when it fails (an error), and for a
/// resource-side statement how its principal element names the caller.
#[derive(Clone, Debug)]
pub struct Applies {
    pub matched: Formula,
    pub failed: Formula,
    pub direct: Formula,
    pub role: Formula,
    pub account: Formula,
}

/// Most values a multivalued key gets in a model.
const MAX_SLOTS: usize = 6;

impl Query {
    /// The vocabulary of `policies` plus a question's own action patterns.
    pub fn new(policies: &[&Policy], extra: &[Glob], view: View) -> Result<Query, Unsupported> {
        let mut extra = extra.to_vec();
        if view != View::Identity {
            // Trust policies decide alone for these (`resource_policy_required`).
            extra.push(Glob::new("sts:assumerole*", true));
        }
        // AWS's own rules decide these whatever the policies say.
        extra.extend(rule_globs());
        let actions = Actions::new(policies, &extra);
        let mut vars = Vars::default();
        let resource = vars.add("resource", Sort::Str);
        let user = vars.add("aws:username", Sort::Str);
        let principal = vars.add("principal", Sort::Str);
        let session = vars.add("session", Sort::Str);
        let services = principal::named(policies, PrincipalKind::Service, |_| true);
        let providers = principal::named(policies, PrincipalKind::Federated, |v| {
            v.starts_with("arn:aws:iam::")
        });
        // Per key: the operator families used, whether a set qualifier is, how many entries.
        #[derive(Default)]
        struct Use {
            types: Vec<ValueType>,
            qualified: bool,
            entries: usize,
            fraction_digits: usize,
            fractional_dates: bool,
            numbers: Vec<String>,
            dates: Vec<policy::value::Timestamp>,
        }
        let mut uses: BTreeMap<String, Use> = BTreeMap::new();
        // Keys condition values name as variables.
        let mut variables: Vec<String> = Vec::new();
        for p in policies {
            for s in &p.statements {
                for c in &s.conditions {
                    if always_derived(&view, &c.key_lower) {
                        continue;
                    }
                    let u = uses.entry(c.key_lower.clone()).or_default();
                    let t = c.operator.kind.value_type();
                    if !u.types.contains(&t) {
                        u.types.push(t);
                    }
                    u.qualified |= c.operator.qualifier != SetQualifier::Single;
                    u.entries += 1;
                    for v in &c.values {
                        for piece in v.template.pieces() {
                            if let Piece::Var { key_lower, .. } = piece {
                                if !always_derived(&view, key_lower) {
                                    variables.push(key_lower.clone());
                                }
                            }
                        }
                        match &v.typed {
                            Typed::Number(_) => {
                                let digits =
                                    v.raw.trim().split_once('.').map_or(0, |(_, f)| f.len());
                                u.fraction_digits = u.fraction_digits.max(digits);
                                u.numbers.push(v.raw.clone());
                            }
                            Typed::Date(ts) => {
                                u.fractional_dates |= ts.nanos != 0;
                                u.dates.push(*ts);
                            }
                            _ => {}
                        }
                    }
                }
                for r in s.resource.iter().flat_map(|c| c.resources.iter()) {
                    for piece in r.template.pieces() {
                        if let Piece::Var { key_lower, .. } = piece {
                            if !always_derived(&view, key_lower) {
                                uses.entry(key_lower.clone()).or_default();
                            }
                        }
                    }
                }
            }
        }
        for key in variables {
            uses.entry(key).or_default();
        }
        let mut keys = BTreeMap::new();
        for (name, u) in uses {
            let mut families: Vec<Family> = Vec::new();
            for t in &u.types {
                let f = match t {
                    ValueType::String | ValueType::Arn => Family::Str,
                    ValueType::Numeric => {
                        let scale = u32::try_from(u.fraction_digits + 1).unwrap_or(u32::MAX);
                        if scale > 18 {
                            return unsupported(format!(
                                "numbers with too many digits on `{name}`"
                            ));
                        }
                        Family::Num { scale }
                    }
                    ValueType::Date => Family::Date { nanos: u.fractional_dates },
                    ValueType::Bool => Family::Bool,
                    ValueType::Ip => Family::Ip,
                    // The request's text, decoded by the operator: a string like any other.
                    ValueType::Binary => Family::Str,
                    ValueType::Null => continue,
                };
                if !families.contains(&f) {
                    families.push(f);
                }
            }
            let family = match families.as_slice() {
                [] => Family::Str,
                [one] => *one,
                _ => {
                    return unsupported(format!(
                        "the key `{name}` is compared as more than one type of value"
                    ))
                }
            };
            let catalog_array = policy::catalog::catalog()
                .condition_key(&name)
                .is_some_and(|info| info.kind.is_array());
            let multi = catalog_array || u.qualified;
            let slots = if multi { u.entries + 1 } else { 1 };
            if slots > MAX_SLOTS {
                return unsupported(format!(
                    "more than {} conditions on the multivalued key `{name}`",
                    MAX_SLOTS - 1
                ));
            }
            let bounds = match family {
                Family::Num { scale } => {
                    // Exact decimals against the evaluator's f64: refuse constants f64 confuses.
                    let mut seen: Vec<(i128, f64)> = Vec::new();
                    for raw in &u.numbers {
                        let n = scaled(raw, scale).ok_or_else(|| {
                            Unsupported(format!("the number `{raw}` is out of range"))
                        })?;
                        let f = policy::value::parse_number(raw).unwrap_or(f64::NAN);
                        if seen.iter().any(|(m, g)| *m != n && *g == f) {
                            return unsupported(format!(
                                "numbers on `{name}` that differ only beyond f64 precision"
                            ));
                        }
                        seen.push((n, f));
                    }
                    let widest = seen.iter().map(|(n, _)| n.unsigned_abs()).max().unwrap_or(0);
                    let bound = i128::try_from(widest)
                        .unwrap_or(i128::MAX / 4)
                        .saturating_add(10i128.pow(scale))
                        .max(10i128.pow(scale + 15));
                    (-bound, bound)
                }
                // Whole seconds render as epoch seconds, which the parser reads as any i64.
                Family::Date { nanos: false } => (i128::from(i64::MIN), i128::from(i64::MAX)),
                // With nanoseconds the text is ISO 8601: years 0000–9999.
                Family::Date { nanos: true } => {
                    let range = (-62_167_219_200i128, 253_402_300_799i128);
                    if u.dates
                        .iter()
                        .any(|t| i128::from(t.secs) <= range.0 || i128::from(t.secs) >= range.1)
                    {
                        return unsupported(format!(
                            "a date with a fraction of a second outside years 0000-9999 on `{name}`"
                        ));
                    }
                    (range.0 * NANOS, range.1 * NANOS)
                }
                _ => (0, 0),
            };
            let count = vars.add(format!("{name}#count"), Sort::Int);
            let mut list = Vec::new();
            for i in 0..slots {
                let sort = match family {
                    Family::Str => Sort::Str,
                    Family::Num { .. } | Family::Date { .. } => Sort::Int,
                    Family::Bool => Sort::Bool,
                    Family::Ip => Sort::Bv,
                };
                let value = vars.add(format!("{name}#{i}"), sort);
                let bad = (family != Family::Str)
                    .then(|| vars.add(format!("{name}#{i}!bad"), Sort::Bool));
                list.push((value, bad));
            }
            keys.insert(name, Key { family, bounds, multi, count, slots: list });
        }
        Ok(Query {
            view,
            actions,
            vars,
            resource,
            user,
            principal,
            session,
            keys,
            services,
            providers,
        })
    }

    /// The requests a question ranges over (decision 006, §3): the resource is `*` or
    /// ARN-shaped, the caller has the shape of its kind (`None`: the identity view's user),
    /// keys hold 0 up to their slot count of values, dates and numbers stay where their text
    /// round-trips.
    pub fn space(&self, kind: Option<Kind>) -> Formula {
        let no_colon = || Re::Star(Box::new(Re::NoColon));
        let arn = Re::Concat(vec![
            Re::Lit("arn:".into()),
            no_colon(),
            Re::Lit(":".into()),
            no_colon(),
            Re::Lit(":".into()),
            no_colon(),
            Re::Lit(":".into()),
            no_colon(),
            Re::Lit(":".into()),
            Re::all(),
        ]);
        let mut parts = vec![
            Formula::In(self.resource, Re::Union(vec![Re::Lit("*".into()), arn])),
            Formula::In(self.user, principal::name()),
        ];
        // A request AWS allows an authenticated caller without any policy
        // (`policy::aws_rules::needs_no_permission`) says nothing about a policy read from one
        // side: the identity and resource views leave it out (every policy would "grant" it);
        // a scenario models it (`scenario`).
        let authenticated = kind.is_none_or(Kind::is_iam);
        if authenticated && !matches!(self.view, View::Caller { .. }) {
            parts.push(self.no_permission_needed().negate());
        }
        // In a scenario the caller is a given constant (pinned by the question), whatever its
        // shape.
        if let (Some(kind), false) = (kind, matches!(self.view, View::Caller { .. })) {
            parts.push(principal::shape(
                kind,
                self.principal,
                self.session,
                &self.services,
                &self.providers,
            ));
        }
        for key in self.keys.values() {
            let slots = i128::try_from(key.slots.len()).unwrap_or(1);
            parts.push(Formula::Int(key.count, Cmp::Ge, 0));
            parts.push(Formula::Int(key.count, Cmp::Le, slots));
            let (lo, hi) = match key.family {
                Family::Date { .. } | Family::Num { .. } => key.bounds,
                _ => continue,
            };
            for (value, _) in &key.slots {
                parts.push(Formula::Int(*value, Cmp::Ge, lo));
                parts.push(Formula::Int(*value, Cmp::Le, hi));
            }
        }
        Formula::and(parts)
    }

    /// When a statement matches the request, when evaluating it raises an error (a malformed
    /// context value), and how it names the caller: in the identity view (`kind` `None`) or,
    /// for a resource-side statement, facing a caller of `kind`.
    pub fn statement(&self, s: &Statement, kind: Option<Kind>) -> Result<Applies, Unsupported> {
        self.statement_in(s, kind, kind.is_some(), false)
    }

    /// [`Query::statement`] for a statement of a resource-side policy (`resource_side`) or
    /// not, with `bounded` saying whether the caller has a permissions boundary.
    pub fn statement_in(
        &self,
        s: &Statement,
        kind: Option<Kind>,
        resource_side: bool,
        bounded: bool,
    ) -> Result<Applies, Unsupported> {
        let (direct, role, account) = match (kind, &s.principal) {
            (None, Some(_)) => return unsupported("Principal in an identity policy"),
            (_, None) if !resource_side => (Formula::True, Formula::False, Formula::False),
            // A resource-side statement without a principal matches nothing.
            (_, None) => (Formula::False, Formula::False, Formula::False),
            (Some(kind), Some(clause)) => {
                // A Deny with NotPrincipal always applies to a bounded caller.
                if clause.negated && bounded && resource_side && s.effect == Effect::Deny {
                    (Formula::True, Formula::False, Formula::False)
                } else {
                    self.principal_levels(kind, s, clause)
                }
            }
        };
        let named = Formula::or(vec![direct.clone(), role.clone(), account.clone()]);
        let action = Formula::ActionIn(self.actions.of_clause(&s.action));
        let resource = match &s.resource {
            Some(clause) => self.resource_clause(clause, kind)?,
            // Without a Resource element (a trust policy) a statement applies to any resource.
            None => Formula::True,
        };
        let base = Formula::and(vec![action, resource, named]);
        // Conditions run in order; the first false, unresolved or failing one stops.
        let mut holds = Vec::new();
        let mut fails = Vec::new();
        for c in &s.conditions {
            let (t, x) = self.condition(c, kind)?;
            let mut before = holds.clone();
            before.push(x);
            fails.push(Formula::and(before));
            holds.push(t);
        }
        let mut matched = vec![base.clone()];
        matched.extend(holds);
        Ok(Applies {
            matched: Formula::and(matched),
            failed: Formula::and(vec![base, Formula::or(fails)]),
            direct,
            role,
            account,
        })
    }

    /// When a Resource or NotResource element matches.
    fn resource_clause(
        &self,
        clause: &policy::ast::ResourceClause,
        kind: Option<Kind>,
    ) -> Result<Formula, Unsupported> {
        let mut per_pattern = Vec::new();
        for r in &clause.resources {
            per_pattern.push(match r.template.fixed() {
                Some(glob) => (Formula::True, Formula::In(self.resource, resource_re(glob))),
                None => self.template(r.template.pieces(), &r.raw, kind)?,
            });
        }
        let resource = if clause.negated {
            // An unresolvable pattern voids a NotResource statement.
            Formula::and(
                per_pattern
                    .into_iter()
                    .map(|(ok, hit)| Formula::and(vec![ok, hit.negate()]))
                    .collect(),
            )
        } else {
            Formula::or(
                per_pattern.into_iter().map(|(ok, hit)| Formula::and(vec![ok, hit])).collect(),
            )
        };
        Ok(resource)
    }

    /// How a `Principal`/`NotPrincipal` element names a caller of `kind`: (direct, role,
    /// account), as `statement_matches` decides (no permissions boundary in this view).
    fn principal_levels(
        &self,
        kind: Kind,
        s: &Statement,
        clause: &policy::ast::PrincipalClause,
    ) -> (Formula, Formula, Formula) {
        let entries: Vec<[Formula; 3]> = match &clause.set {
            policy::ast::PrincipalSet::Any => vec![[Formula::True, Formula::False, Formula::False]],
            policy::ast::PrincipalSet::Named(entries) => entries
                .iter()
                .map(|e| principal::entry(kind, self.principal, self.session, e.kind, &e.value))
                .collect(),
        };
        let level = |i: usize| {
            Formula::or(entries.iter().filter_map(|e| e.get(i).cloned()).collect::<Vec<_>>())
        };
        let (d, r, a) = (level(0), level(1), level(2));
        if !clause.negated {
            return (d, r, a);
        }
        // An Allow with NotPrincipal applies (naming the caller directly) only to a caller it
        // names in no way: not itself, not its role, not its account.
        if s.effect == Effect::Allow {
            return (Formula::or(vec![d, r, a]).negate(), Formula::False, Formula::False);
        }
        // A Deny with NotPrincipal applies (naming the caller directly) unless every identity
        // of the caller is listed.
        let listed = match kind {
            Kind::Anonymous => Formula::False,
            Kind::Service | Kind::WebIdentity | Kind::Root => d,
            Kind::AssumedRole => Formula::and(vec![d, r, a]),
            Kind::User | Kind::FederatedUser => Formula::and(vec![d, a]),
        };
        let star = matches!(clause.set, policy::ast::PrincipalSet::Any)
            || matches!(&clause.set, policy::ast::PrincipalSet::Named(e)
                if e.iter().any(|e| e.kind == policy::ast::PrincipalKind::Aws && e.value == "*"));
        let listed = if star { Formula::True } else { listed };
        (listed.negate(), Formula::False, Formula::False)
    }

    /// A resource pattern with policy variables: (resolved, matches).
    fn template(
        &self,
        pieces: &[Piece],
        raw: &str,
        kind: Option<Kind>,
    ) -> Result<(Formula, Formula), Unsupported> {
        self.template_on(pieces, raw, kind, self.resource, Matching::Resource)
    }

    /// A template matched against `target`: when every variable resolves, and when the
    /// resolved pattern matches.
    fn template_on(
        &self,
        pieces: &[Piece],
        raw: &str,
        kind: Option<Kind>,
        target: Var,
        matching: Matching,
    ) -> Result<(Formula, Formula), Unsupported> {
        // Each variable resolves to the key's value or, absent, to its default.
        let mut choices: Vec<Vec<(Formula, Term)>> = Vec::new();
        let mut last_var = None;
        for (i, piece) in pieces.iter().enumerate() {
            match piece {
                Piece::Invalid(_) => return Ok((Formula::False, Formula::False)),
                Piece::Toks(_) => {}
                Piece::Var { key_lower, default, .. } => {
                    last_var = Some(i);
                    let mut options = Vec::new();
                    match (self.derived(kind, key_lower), self.keys.get(key_lower)) {
                        (Some(Derived::Fixed(text)), _) => {
                            options.push((Formula::True, Term::Lit(text)))
                        }
                        (Some(Derived::Name(prefix)), _) if prefix.is_empty() => {
                            options.push((Formula::True, Term::Var(self.user)))
                        }
                        (Some(_), _) => {
                            return unsupported(format!(
                                "a variable naming the caller in a resource ({raw})"
                            ))
                        }
                        (None, Some(key)) => {
                            if key.family != Family::Str {
                                return unsupported(format!(
                                    "a typed key as a policy variable ({raw})"
                                ));
                            }
                            let present = Formula::Int(key.count, Cmp::Ge, 1);
                            if !key.multi {
                                if let Some((value, _)) = key.slots.first() {
                                    options.push((present.clone(), Term::Var(*value)));
                                }
                            }
                            if let Some(d) = default {
                                let absent =
                                    if key.multi { Formula::True } else { present.negate() };
                                options.push((absent, Term::Lit(d.clone())));
                            }
                        }
                        (None, None) => {
                            return unsupported(format!("an unknown variable in {raw}"))
                        }
                    }
                    choices.push(options);
                }
            }
        }
        let Some(last_var) = last_var else { return Ok((Formula::False, Formula::False)) };
        // The text before the last variable must be literal.
        let mut head_toks: Vec<Vec<Tok>> = Vec::new();
        for piece in pieces.iter().take(last_var) {
            if let Piece::Toks(t) = piece {
                if t.iter().all(|t| matches!(t, Tok::Char(_))) {
                    head_toks.push(t.clone());
                } else {
                    return unsupported(format!("a wildcard before a policy variable ({raw})"));
                }
            }
        }
        let tail: Vec<Tok> = match pieces.get(last_var + 1) {
            Some(Piece::Toks(t)) => t.clone(),
            _ => Vec::new(),
        };
        let first_text: String = match pieces.first() {
            Some(Piece::Toks(t)) => {
                t.iter().map_while(|t| if let Tok::Char(c) = t { Some(*c) } else { None }).collect()
            }
            _ => String::new(),
        };
        let arn = first_text.starts_with("arn:");
        if matching != Matching::Glob {
            if !arn && "arn:".starts_with(first_text.as_str()) {
                return unsupported(format!("a policy variable at the start of an ARN ({raw})"));
            }
            let head_colons: usize =
                head_toks.iter().flatten().filter(|t| **t == Tok::Char(':')).count();
            let tail_wild = tail.iter().any(|t| !matches!(t, Tok::Char(_)));
            if (arn || matching == Matching::Arn) && head_colons < 5 && tail_wild {
                return unsupported(format!(
                    "a policy variable within an ARN's first five parts ({raw})"
                ));
            }
        }
        let tail_re = toks_re(&tail, 0);
        // Every combination of the variables' options.
        let mut combos: Vec<(Vec<Formula>, Vec<Term>)> = vec![(Vec::new(), Vec::new())];
        let mut var_index = 0;
        for (i, piece) in pieces.iter().enumerate() {
            if i > last_var {
                break;
            }
            match piece {
                Piece::Toks(t) => {
                    let text: String = t
                        .iter()
                        .filter_map(|t| if let Tok::Char(c) = t { Some(*c) } else { None })
                        .collect();
                    for (_, terms) in &mut combos {
                        terms.push(Term::Lit(text.clone()));
                    }
                }
                Piece::Var { .. } => {
                    let options = choices.get(var_index).cloned().unwrap_or_default();
                    var_index += 1;
                    let mut next = Vec::new();
                    for (conds, terms) in &combos {
                        for (cond, term) in &options {
                            let mut c = conds.clone();
                            c.push(cond.clone());
                            let mut t = terms.clone();
                            t.push(term.clone());
                            next.push((c, t));
                        }
                    }
                    combos = next;
                }
                Piece::Invalid(_) => {}
            }
        }
        if combos.len() > 64 {
            return unsupported(format!("too many policy variables in one value ({raw})"));
        }
        let mut resolved = Vec::new();
        let mut matches = Vec::new();
        for (conds, terms) in combos {
            let when = Formula::and(conds);
            resolved.push(when.clone());
            let head = merge_literals(terms);
            let hit = match head.as_slice() {
                // Every variable resolved to fixed text: the resolved pattern, matched as is.
                [] | [Term::Lit(_)] => {
                    let text = match head.first() {
                        Some(Term::Lit(t)) => t.clone(),
                        _ => String::new(),
                    };
                    let mut toks: Vec<Tok> = text.chars().map(Tok::Char).collect();
                    toks.extend(tail.iter().cloned());
                    let glob = Glob::from_toks(toks);
                    Formula::In(
                        target,
                        match matching {
                            Matching::Resource => resource_re(&glob),
                            Matching::Arn => glob_re(&glob, true),
                            Matching::Glob => glob_re(&glob, false),
                        },
                    )
                }
                _ => Formula::Split { var: target, head, tail: tail_re.clone() },
            };
            matches.push(Formula::and(vec![when, hit]));
        }
        Ok((Formula::or(resolved), Formula::or(matches)))
    }

    /// One condition entry: (true, error) as `condition::evaluate` decides them.
    fn condition(
        &self,
        c: &policy::ast::Condition,
        kind: Option<Kind>,
    ) -> Result<(Formula, Formula), Unsupported> {
        let op = c.operator;
        let variables = c.values.iter().any(|v| v.template.has_variables());
        let textual = matches!(op.kind.value_type(), ValueType::String | ValueType::Arn)
            && !matches!(
                op.kind,
                OpKind::StringEqualsIgnoreCase | OpKind::StringNotEqualsIgnoreCase
            );
        if variables && (!textual || self.derived(kind, &c.key_lower).is_some()) {
            return unsupported(format!("a policy variable in a condition value on `{}`", c.key));
        }
        let negated = op.kind.is_negated();
        let on = match self.derived(kind, &c.key_lower) {
            Some(Derived::Fixed(text)) => {
                if kind.is_none() && names_other_account(c) {
                    return unsupported(format!(
                        "a condition naming an account on `{}` in an identity policy (the identity view's account is fixed)",
                        c.key
                    ));
                }
                return Ok(static_outcome(c, Some(&text)));
            }
            Some(Derived::Refused(why)) => return unsupported(why),
            Some(Derived::Name(prefix)) => Some((self.user, prefix, None)),
            Some(Derived::On(var, wrap)) => Some((var, String::new(), Some(wrap))),
            Some(Derived::OnIf { var, wrap, present }) => {
                if matches!(op.kind.value_type(), ValueType::Null)
                    || !matches!(op.kind.value_type(), ValueType::String | ValueType::Arn)
                {
                    return unsupported(format!("a typed or Null test of `{}`", c.key));
                }
                let re = Re::union(
                    c.values.iter().map(|v| string_re(op.kind, v)).collect::<Result<_, _>>()?,
                );
                let when_absent = op.if_exists
                    || match op.qualifier {
                        SetQualifier::ForAllValues => true,
                        SetQualifier::ForAnyValue => false,
                        SetQualifier::Single => negated,
                    };
                let here = Formula::In(var, present);
                let holds = Formula::ite(
                    here,
                    Formula::xor(Formula::In(var, wrap.apply(re)), bool_formula(negated)),
                    bool_formula(when_absent),
                );
                return Ok((holds, Formula::False));
            }
            None => None,
        };
        if let Some((var, prefix, wrap)) = on {
            if matches!(op.kind.value_type(), ValueType::Null) {
                return Ok(static_outcome(c, Some("x")));
            }
            if !matches!(op.kind.value_type(), ValueType::String | ValueType::Arn) {
                return unsupported(format!("a typed comparison of `{}`", c.key));
            }
            let re = Re::union(
                c.values.iter().map(|v| string_re(op.kind, v)).collect::<Result<_, _>>()?,
            );
            if wrap.is_none() && !prefix.is_empty() {
                // The identity view's caller has the view's account and no path: a pattern that
                // names another account or a path says something the view cannot.
                let path = Re::Concat(vec![Re::all(), Re::Lit("/".into()), Re::all()]);
                let with_path = Re::inter(vec![re.after(&prefix), path]);
                if names_other_account(c) || !matches!(with_path.witness(50_000), Ok(None)) {
                    return unsupported(format!(
                        "a condition on `{}` naming another account or a user path in an identity policy",
                        c.key
                    ));
                }
            }
            let re = match wrap {
                Some(w) => w.apply(re),
                None => re.after(&prefix),
            };
            return Ok((Formula::xor(Formula::In(var, re), bool_formula(negated)), Formula::False));
        }
        let Some(key) = self.keys.get(&c.key_lower) else {
            return unsupported(format!("the key `{}` has no model", c.key));
        };
        let present = Formula::Int(key.count, Cmp::Ge, 1);
        if op.kind == OpKind::Null {
            let mut any = Vec::new();
            for v in &c.values {
                match v.typed {
                    Typed::Bool(absent) => {
                        any.push(if absent { present.clone().negate() } else { present.clone() })
                    }
                    _ => return Ok((Formula::False, Formula::True)),
                }
            }
            return Ok((Formula::or(any), Formula::False));
        }
        let when_absent = op.if_exists
            || match op.qualifier {
                SetQualifier::ForAllValues => true,
                SetQualifier::ForAnyValue => false,
                SetQualifier::Single => negated,
            };
        let mut has_valid = false;
        let mut tests: Vec<Box<dyn Fn(Var) -> Formula>> = Vec::new();
        // When every value's variables resolve (otherwise the condition cannot match).
        let mut resolved: Vec<Formula> = Vec::new();
        // BinaryEquals: request texts that do not decode are errors (against a valid value).
        let mut undecodable: Option<Re> = None;
        match key.family {
            Family::Str if op.kind.value_type() == ValueType::Binary => {
                let decoding: Vec<Re> = c
                    .values
                    .iter()
                    .filter_map(|v| match &v.typed {
                        Typed::Binary(bytes) => Some(base64_of(bytes)),
                        _ => None,
                    })
                    .collect();
                if !decoding.is_empty() {
                    has_valid = true;
                    undecodable = Some(Re::comp(base64_text()));
                }
                let re = Re::union(decoding);
                tests.push(Box::new(move |e| Formula::In(e, re.clone())));
            }
            Family::Str if variables => {
                // Each slot against each value resolved from the request: a relation between
                // strings (a split) where a variable takes another key's value.
                let matching = if op.kind.value_type() == ValueType::Arn {
                    Matching::Arn
                } else {
                    Matching::Glob
                };
                let mut per_slot: Vec<(Var, Formula)> = Vec::new();
                for (slot, _) in &key.slots {
                    let mut hits = Vec::new();
                    for v in &c.values {
                        let (when, hit) = if v.template.has_variables() {
                            self.template_on(v.template.pieces(), &v.raw, kind, *slot, matching)?
                        } else {
                            (Formula::True, Formula::In(*slot, string_re(op.kind, v)?))
                        };
                        resolved.push(when);
                        hits.push(hit);
                    }
                    per_slot.push((*slot, Formula::or(hits)));
                }
                tests.push(Box::new(move |e| {
                    per_slot
                        .iter()
                        .find(|(s, _)| *s == e)
                        .map_or(Formula::False, |(_, f)| f.clone())
                }));
            }
            Family::Str => {
                let re = Re::union(
                    c.values.iter().map(|v| string_re(op.kind, v)).collect::<Result<_, _>>()?,
                );
                tests.push(Box::new(move |e| Formula::In(e, re.clone())));
            }
            family => {
                for v in &c.values {
                    let test: Option<Box<dyn Fn(Var) -> Formula>> = match (&v.typed, family) {
                        (Typed::Invalid, _) => None,
                        (Typed::Number(_), Family::Num { scale }) => {
                            let n = scaled(&v.raw, scale).ok_or_else(|| {
                                Unsupported(format!("the number `{}` is out of range", v.raw))
                            })?;
                            let kind = op.kind;
                            Some(Box::new(move |e| ordering(kind, e, n)))
                        }
                        (Typed::Date(ts), Family::Date { nanos }) => {
                            let t = i128::from(ts.secs) * if nanos { NANOS } else { 1 }
                                + if nanos { i128::from(ts.nanos) } else { 0 };
                            let kind = op.kind;
                            Some(Box::new(move |e| ordering(kind, e, t)))
                        }
                        (Typed::Bool(b), Family::Bool) => {
                            let b = *b;
                            Some(Box::new(move |e| {
                                if b {
                                    Formula::Bool(e)
                                } else {
                                    Formula::Bool(e).negate()
                                }
                            }))
                        }
                        (Typed::Ip(net), Family::Ip) => {
                            let (bits, value) = ip_prefix(*net);
                            Some(Box::new(move |e| Formula::BvTop { var: e, bits, value }))
                        }
                        _ => return unsupported(format!("a mixed comparison on `{}`", c.key)),
                    };
                    if let Some(t) = test {
                        has_valid = true;
                        tests.push(t);
                    }
                }
            }
        }
        let m = |e: Var| Formula::or(tests.iter().map(|t| t(e)).collect());
        let mut active_bad = Vec::new();
        let mut any_match = Vec::new();
        let mut any_flip = Vec::new();
        let mut all_flip = Vec::new();
        for (i, (value, bad)) in key.slots.iter().enumerate() {
            let active =
                Formula::Int(key.count, Cmp::Ge, i128::try_from(i + 1).unwrap_or(i128::MAX));
            if let Some(bad) = bad {
                active_bad.push(Formula::and(vec![active.clone(), Formula::Bool(*bad)]));
            }
            if let Some(undecodable) = &undecodable {
                active_bad.push(Formula::and(vec![
                    active.clone(),
                    Formula::In(*value, undecodable.clone()),
                ]));
            }
            any_match.push(Formula::and(vec![active.clone(), m(*value)]));
            let flip = Formula::xor(m(*value), bool_formula(negated));
            any_flip.push(Formula::and(vec![active.clone(), flip.clone()]));
            all_flip.push(Formula::or(vec![active.negate(), flip]));
        }
        let error = if has_valid {
            Formula::and(vec![present.clone(), Formula::or(active_bad)])
        } else {
            Formula::False
        };
        let logic = match op.qualifier {
            SetQualifier::Single => Formula::xor(Formula::or(any_match), bool_formula(negated)),
            SetQualifier::ForAnyValue => Formula::or(any_flip),
            SetQualifier::ForAllValues => Formula::and(all_flip),
        };
        let holds = Formula::or(vec![
            Formula::and(vec![present.clone().negate(), bool_formula(when_absent)]),
            Formula::and(vec![present, Formula::and(resolved), error.clone().negate(), logic]),
        ]);
        Ok((holds, error))
    }

    /// When an identity policy allows the request: no Deny applies (or fails), the request
    /// changes no AWS-owned resource, and an Allow matches.
    pub fn allows(&self, p: &Policy) -> Result<Formula, Unsupported> {
        let mut allow = Vec::new();
        let mut deny = Vec::new();
        for s in &p.statements {
            let a = self.statement(s, None)?;
            match s.effect {
                Effect::Allow => allow.push(a.matched),
                Effect::Deny => deny.push(Formula::or(vec![a.matched, a.failed])),
            }
        }
        Ok(Formula::and(vec![
            Formula::or(deny).negate(),
            self.aws_owned().negate(),
            Formula::or(allow),
        ]))
    }

    /// When a resource policy (resource view, owner account from the view) allows a caller of
    /// `kind`, as `policy::evaluate` decides with no identity policies for callers of the
    /// owner account and an allow-all identity policy for callers of other accounts.
    pub fn resource_allows(&self, p: &Policy, kind: Kind) -> Result<Formula, Unsupported> {
        let View::Resource { owner } = &self.view else {
            return unsupported("a resource policy question in the identity view");
        };
        let mut deny = Vec::new();
        let (mut direct, mut role, mut account) = (Vec::new(), Vec::new(), Vec::new());
        for s in &p.statements {
            let a = self.statement(s, Some(kind))?;
            match s.effect {
                Effect::Deny => deny.push(Formula::or(vec![a.matched, a.failed])),
                Effect::Allow => {
                    direct.push(Formula::and(vec![a.matched.clone(), a.direct]));
                    role.push(Formula::and(vec![a.matched.clone(), a.role]));
                    account.push(Formula::and(vec![a.matched, a.account]));
                }
            }
        }
        let (d, r, a) = (Formula::or(direct), Formula::or(role), Formula::or(account));
        let any = Formula::or(vec![d.clone(), r.clone(), a]);
        let allowed = if !kind.is_iam() {
            d
        } else {
            let same = principal::in_account(kind, self.principal, owner);
            // Same account: named directly or as the role; otherwise the (empty) identity
            // policies decide, which only lets the root user through, and not where the
            // resource policy must allow.
            let root_path = if kind == Kind::Root {
                Formula::and(vec![self.must_resource_allow(), any.clone().negate()]).negate()
            } else {
                Formula::False
            };
            Formula::ite(same, Formula::or(vec![d, r, root_path]), any)
        };
        Ok(Formula::and(vec![Formula::or(deny).negate(), self.aws_owned().negate(), allowed]))
    }

    /// `policy::aws_rules::needs_no_permission` for an authenticated caller: an action that
    /// needs no permission, on `*`.
    pub(crate) fn no_permission_needed(&self) -> Formula {
        Formula::and(vec![
            Formula::ActionIn(classes_named(
                &self.actions,
                policy::aws_rules::NO_PERMISSION_ACTIONS,
            )),
            Formula::In(self.resource, Re::Lit("*".into())),
        ])
    }

    /// `policy::aws_rules::aws_owned`: the request changes a resource AWS owns, which
    /// `policy::evaluate` refuses whatever the policies allow (after an explicit deny).
    pub(crate) fn aws_owned(&self) -> Formula {
        Formula::or(
            policy::aws_rules::AWS_OWNED
                .iter()
                .map(|rule| {
                    Formula::and(vec![
                        Formula::ActionIn(classes_named(&self.actions, rule.actions)),
                        Formula::In(self.resource, resource_re(&Glob::new(rule.resource, true))),
                    ])
                })
                .collect(),
        )
    }

    /// `policy::evaluate::resource_policy_required`: `sts:AssumeRole*` on a role, or any action
    /// on a KMS key.
    pub(crate) fn must_resource_allow(&self) -> Formula {
        let nc = || Re::Star(Box::new(Re::NoColon));
        let part = |service: &str, resource: &str| {
            // `splitn(6, ':')`: the third part is the service, the sixth the resource.
            Re::Concat(vec![
                nc(),
                Re::Lit(":".into()),
                nc(),
                Re::Lit(format!(":{service}:")),
                nc(),
                Re::Lit(":".into()),
                nc(),
                Re::Lit(format!(":{resource}")),
                Re::all(),
            ])
        };
        let assume = self.actions.matching(&Glob::new("sts:assumerole*", true));
        Formula::or(vec![
            Formula::and(vec![
                Formula::ActionIn(assume),
                Formula::In(self.resource, part("iam", "role/")),
            ]),
            Formula::In(self.resource, part("kms", "key/")),
        ])
    }

    /// The context keys AWS derives for a caller of `kind` (`None`: the identity view's user).
    fn derived(&self, kind: Option<Kind>, key_lower: &str) -> Option<Derived> {
        let Some(kind) = kind else { return identity_derived(key_lower) };
        let owner = match &self.view {
            View::Resource { owner } => owner.clone(),
            View::Identity => crate::ACCOUNT.to_string(),
            View::Caller { owner, principal } => {
                return caller_derived(owner, principal, key_lower).map(Derived::Fixed)
            }
        };
        let p = self.principal;
        Some(match (kind, key_lower) {
            (_, "aws:resourceaccount") => Derived::Fixed(owner),
            (Kind::Anonymous, "aws:principaltype") => Derived::Fixed("Anonymous".into()),
            (Kind::Anonymous, _) => return None,
            (Kind::Service, "aws:principalisawsservice") => Derived::Fixed("true".into()),
            (Kind::Service, "aws:principalservicename") => Derived::On(p, Wrap::Whole),
            (Kind::Service, _) => return None,
            (_, "aws:principalisawsservice") => Derived::Fixed("false".into()),
            (_, "aws:principalarn") => Derived::On(p, Wrap::Whole),
            (_, "aws:principaltype") => Derived::Fixed(kind.type_name().into()),
            // A SAML/OIDC provider ARN carries an account that `Request::new` derives; the
            // well-known providers do not.
            (Kind::WebIdentity, "aws:principalaccount") => Derived::OnIf {
                var: p,
                wrap: Wrap::Account("arn:aws:iam::"),
                present: Re::Concat(vec![Re::Lit("arn:".into()), Re::all()]),
            },
            (Kind::WebIdentity, _) => return None,
            (_, "aws:principalaccount") => match kind.arn_prefix() {
                Some(prefix) => Derived::On(p, Wrap::Account(prefix)),
                None => return None,
            },
            (Kind::User, "aws:username") => Derived::On(p, Wrap::LastSegment),
            (Kind::Root, "aws:userid") => Derived::On(p, Wrap::Account("arn:aws:iam::")),
            (Kind::FederatedUser, "aws:userid") => {
                Derived::Refused("aws:userid of a federated user".into())
            }
            _ => return None,
        })
    }

    /// The fresh-account condition of `public`: the caller's account is none of `accounts`.
    pub fn account_outside(&self, kind: Kind, accounts: &[String]) -> Formula {
        if !kind.is_iam() {
            return Formula::True;
        }
        let listed = Re::union(accounts.iter().map(|a| Re::Lit(a.clone())).collect());
        match kind.arn_prefix() {
            Some(prefix) => {
                Formula::In(self.principal, Wrap::Account(prefix).apply(Re::comp(listed)))
            }
            None => Formula::True,
        }
    }

    /// The fixing keys (of `keys`) the policies compare for a caller of `kind`, each with the
    /// literal (wildcard-free) texts and the IP ranges they are compared with.
    pub fn fixing_values(
        &self,
        kind: Kind,
        keys: &[&str],
        policies: &[&Policy],
    ) -> Vec<(String, Vec<Pin>)> {
        let statements: Vec<&Statement> = policies.iter().flat_map(|p| &p.statements).collect();
        self.fixing_values_of(kind, keys, &statements)
    }

    /// [`Query::fixing_values`] for some statements.
    pub fn fixing_values_of(
        &self,
        kind: Kind,
        keys: &[&str],
        statements: &[&Statement],
    ) -> Vec<(String, Vec<Pin>)> {
        let mut out = Vec::new();
        for wanted in keys {
            let lower = wanted.to_lowercase();
            if self.derived(Some(kind), &lower).is_some() || !self.keys.contains_key(&lower) {
                continue;
            }
            let mut pins: Vec<Pin> = Vec::new();
            for s in statements {
                {
                    for c in s.conditions.iter().filter(|c| c.key_lower == lower) {
                        let text_op = matches!(
                            c.operator.kind.value_type(),
                            ValueType::String | ValueType::Arn
                        );
                        for v in &c.values {
                            let pin = match (&v.typed, v.template.fixed()) {
                                (Typed::Ip(net), _) => Some(Pin::Net(*net)),
                                (_, Some(g)) if text_op => {
                                    g.literal().map(|l| Pin::Text(l.to_string()))
                                }
                                _ => None,
                            };
                            if let Some(pin) = pin.filter(|p| !pins.contains(p)) {
                                pins.push(pin);
                            }
                        }
                    }
                }
            }
            out.push((lower, pins));
        }
        out
    }

    /// Every fixing key absent or fresh (a text no policy names, an address outside every
    /// range but `/0`), except the `pinned` ones, which hold their value.
    pub fn fresh_keys(&self, fixing: &[(String, Vec<Pin>)], pinned: &[(String, Pin)]) -> Formula {
        let mut parts = Vec::new();
        for (name, pins) in fixing {
            let Some(key) = self.keys.get(name) else { continue };
            let active = |i: usize| {
                Formula::Int(key.count, Cmp::Ge, i128::try_from(i + 1).unwrap_or(i128::MAX))
            };
            let holds = |pin: &Pin, value: Var| match (pin, key.family) {
                (Pin::Text(t), Family::Str) => Formula::In(value, Re::Lit(t.clone())),
                (Pin::Net(n), Family::Ip) => {
                    let (bits, v) = ip_prefix(*n);
                    Formula::BvTop { var: value, bits, value: v }
                }
                _ => Formula::False,
            };
            let mine: Vec<&Pin> =
                pinned.iter().filter(|(k, _)| k == name).map(|(_, p)| p).collect();
            if !mine.is_empty() {
                for pin in mine {
                    parts.push(Formula::or(
                        key.slots
                            .iter()
                            .enumerate()
                            .map(|(i, (value, _))| {
                                Formula::and(vec![active(i), holds(pin, *value)])
                            })
                            .collect(),
                    ));
                }
                continue;
            }
            let named: Vec<&Pin> = pins
                .iter()
                .filter(|p| !matches!(p, Pin::Net(IpNet::V4(_, 0) | IpNet::V6(_, 0))))
                .collect();
            // A slot past the key's count is never read: it may as well be fresh too, which
            // makes the constraint a unit that folds the statements naming these values
            // before Z3 — unless no value is fresh (ranges covering every address).
            let ranges: Vec<(u8, u128)> = named
                .iter()
                .filter_map(|p| match p {
                    Pin::Net(n) => Some(ip_prefix(*n)),
                    Pin::Text(_) => None,
                })
                .collect();
            let unguarded = !covers_every_address(&ranges, 0, 0);
            for (i, (value, _)) in key.slots.iter().enumerate() {
                let fresh = Formula::or(named.iter().map(|p| holds(p, *value)).collect()).negate();
                parts.push(if unguarded {
                    fresh
                } else {
                    Formula::or(vec![active(i).negate(), fresh])
                });
            }
        }
        Formula::and(parts)
    }

    /// The request a model describes (`None` if its action class does not exist).
    pub fn decode(&self, model: &Model, kind: Option<Kind>) -> Option<crate::Witness> {
        let action = self.actions.classes.get(model.action_class)?.first()?.clone();
        let principal = match kind {
            None => format!("{USER_PREFIX}{}", model.string(self.user)),
            Some(kind) => principal::render(kind, model, self.principal, self.session),
        };
        let mut context = Vec::new();
        for (name, key) in &self.keys {
            if self.derived(kind, name).is_some() {
                continue;
            }
            let n = usize::try_from(model.int(key.count).max(0)).unwrap_or(0);
            if n == 0 {
                continue;
            }
            let mut values = Vec::new();
            for (value, bad) in key.slots.iter().take(n) {
                if bad.is_some_and(|b| model.bool(b)) {
                    values.push("x".to_string());
                    continue;
                }
                values.push(match key.family {
                    Family::Str => model.string(*value),
                    Family::Num { scale } => render_scaled(model.int(*value), scale),
                    Family::Date { nanos } => render_date(model.int(*value), nanos),
                    Family::Bool => model.bool(*value).to_string(),
                    Family::Ip => render_ip(model.bv(*value)),
                });
            }
            context.push((name.clone(), values, key.multi));
        }
        Some(crate::Witness { principal, action, resource: model.string(self.resource), context })
    }
}

const NANOS: i128 = 1_000_000_000;

/// A context key AWS derives from the caller (never free in the context).
enum Derived {
    /// Always this text.
    Fixed(String),
    /// This text followed by the identity view's user name.
    Name(String),
    /// Part of a caller variable.
    On(Var, Wrap),
    /// Part of a caller variable when the variable is in `present`; absent otherwise.
    OnIf { var: Var, wrap: Wrap, present: Re },
    /// Derived in a way not encoded.
    Refused(String),
}

/// A value a fixing key can be pinned to in a finding's condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pin {
    Text(String),
    Net(IpNet),
}

impl Pin {
    /// As the policy writes it.
    pub fn text(&self) -> String {
        match self {
            Pin::Text(t) => t.clone(),
            Pin::Net(IpNet::V4(a, p)) => format!("{}/{p}", std::net::Ipv4Addr::from(*a)),
            Pin::Net(IpNet::V6(a, p)) => format!("{}/{p}", std::net::Ipv6Addr::from(*a)),
        }
    }
}

/// Keys no caller of the view leaves free: the identity view derives the caller's; every view
/// derives `aws:ResourceAccount`.
fn always_derived(view: &View, key_lower: &str) -> bool {
    match view {
        View::Identity => {
            key_lower == "aws:resourceaccount" || identity_derived(key_lower).is_some()
        }
        View::Resource { .. } => key_lower == "aws:resourceaccount",
        View::Caller { owner, principal } => caller_derived(owner, principal, key_lower).is_some(),
    }
}

/// The value `Request::new` derives for `key_lower` for this caller on a resource of `owner`.
fn caller_derived(owner: &str, principal: &policy::Principal, key_lower: &str) -> Option<String> {
    let request =
        policy::Request::new(principal.clone(), "x:y", "*", Some(owner), policy::Context::new());
    request.context.get(key_lower).and_then(|v| v.values.first().cloned())
}

fn identity_derived(key_lower: &str) -> Option<Derived> {
    Some(match key_lower {
        "aws:username" => Derived::Name(String::new()),
        "aws:principalarn" => Derived::Name(USER_PREFIX.into()),
        "aws:principaltype" => Derived::Fixed("User".into()),
        "aws:principalaccount" | "aws:resourceaccount" => Derived::Fixed(crate::ACCOUNT.into()),
        "aws:principalisawsservice" => Derived::Fixed("false".into()),
        _ => return None,
    })
}

/// Whether a condition's values name a 12-digit account other than the identity view's.
fn names_other_account(c: &policy::ast::Condition) -> bool {
    c.values.iter().any(|v| principal::account_runs(&v.raw).any(|run| run != crate::ACCOUNT))
}

fn bool_formula(b: bool) -> Formula {
    if b {
        Formula::True
    } else {
        Formula::False
    }
}

/// A condition on a key whose value is fixed, decided by the evaluator itself.
fn static_outcome(c: &policy::ast::Condition, value: Option<&str>) -> (Formula, Formula) {
    let mut context = policy::Context::new();
    if let Some(v) = value {
        context.set(&c.key_lower, v);
    }
    match policy::condition::evaluate(c.operator, &c.key_lower, &c.values, &context) {
        Outcome::True => (Formula::True, Formula::False),
        Outcome::False | Outcome::Unresolved => (Formula::False, Formula::False),
        Outcome::Error(_) => (Formula::False, Formula::True),
    }
}

/// The request texts a String or ARN operator's value matches (positively).
fn string_re(kind: OpKind, v: &policy::ast::ConditionValue) -> Result<Re, Unsupported> {
    let Some(glob) = v.template.fixed() else {
        return unsupported("a policy variable in a condition value");
    };
    Ok(match kind {
        OpKind::StringEqualsIgnoreCase | OpKind::StringNotEqualsIgnoreCase => {
            ignore_case_re(&glob.to_lowercase().text())?
        }
        OpKind::ArnEquals | OpKind::ArnLike | OpKind::ArnNotEquals | OpKind::ArnNotLike => {
            glob_re(glob, true)
        }
        _ => glob_re(glob, false),
    })
}

/// One base64 character (the evaluator's decoder takes both alphabets: `+/` and `-_`).
fn base64_char() -> Re {
    Re::union(vec![
        Re::Range('A', 'Z'),
        Re::Range('a', 'z'),
        Re::Range('0', '9'),
        Re::Lit("+".into()),
        Re::Lit("-".into()),
        Re::Lit("/".into()),
        Re::Lit("_".into()),
    ])
}

/// Up to two `=`.
fn base64_padding() -> Re {
    Re::union(vec![Re::Lit(String::new()), Re::Lit("=".into()), Re::Lit("==".into())])
}

/// The texts `policy::value::decode_base64` decodes: base64 characters whose number is not one
/// more than a multiple of four, then at most two `=`.
fn base64_text() -> Re {
    let c = base64_char;
    Re::concat(vec![
        Re::Star(Box::new(Re::concat(vec![c(), c(), c(), c()]))),
        Re::union(vec![
            Re::Lit(String::new()),
            Re::concat(vec![c(), c()]),
            Re::concat(vec![c(), c(), c()]),
        ]),
        base64_padding(),
    ])
}

/// The texts that decode to `bytes`: one character per six bits (the last one's unused low
/// bits free), then at most two `=`.
fn base64_of(bytes: &[u8]) -> Re {
    let bits = bytes.len() * 8;
    let bit = |i: usize| bytes.get(i / 8).is_some_and(|b| (b >> (7 - i % 8)) & 1 == 1);
    let value = |ch: char| -> Option<u8> {
        let v = match ch {
            'A'..='Z' => u32::from(ch) - u32::from('A'),
            'a'..='z' => u32::from(ch) - u32::from('a') + 26,
            '0'..='9' => u32::from(ch) - u32::from('0') + 52,
            '+' | '-' => 62,
            '/' | '_' => 63,
            _ => return None,
        };
        u8::try_from(v).ok()
    };
    let alphabet: Vec<char> =
        ('A'..='Z').chain('a'..='z').chain('0'..='9').chain(['+', '-', '/', '_']).collect();
    let mut parts = Vec::new();
    let mut start = 0;
    while start < bits {
        let known = (bits - start).min(6);
        let mut wanted = 0u8;
        for i in 0..known {
            wanted = (wanted << 1) | u8::from(bit(start + i));
        }
        let choices: Vec<Re> = alphabet
            .iter()
            .filter(|ch| value(**ch).is_some_and(|v| v >> (6 - known) == wanted))
            .map(|ch| Re::Lit(ch.to_string()))
            .collect();
        parts.push(Re::union(choices));
        start += 6;
    }
    parts.push(base64_padding());
    Re::concat(parts)
}

/// The texts whose lowercase is `lower` (already lowercase), character by character.
fn ignore_case_re(lower: &str) -> Result<Re, Unsupported> {
    // Characters whose lowercase is longer than one character (U+0130) and the context-dependent
    // final sigma do not map character by character.
    if lower.chars().any(|c| matches!(c, '\u{307}' | 'σ' | 'ς')) {
        return unsupported("a case-insensitive value with İ or σ");
    }
    let mut parts = Vec::new();
    for c in lower.chars() {
        let mut options = vec![Re::Lit(c.to_string())];
        for u in uppercase_of(c) {
            options.push(Re::Lit(u.to_string()));
        }
        parts.push(Re::union(options));
    }
    Ok(Re::concat(parts))
}

/// Every character other than `c` whose lowercase is exactly `c`.
fn uppercase_of(c: char) -> Vec<char> {
    static TABLE: std::sync::OnceLock<HashMap<char, Vec<char>>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t: HashMap<char, Vec<char>> = HashMap::new();
        for x in (0..=0x10_FFFFu32).filter_map(char::from_u32) {
            let mut lower = x.to_lowercase();
            if let (Some(l), None) = (lower.next(), lower.next()) {
                if l != x {
                    t.entry(l).or_default().push(x);
                }
            }
        }
        t
    });
    table.get(&c).cloned().unwrap_or_default()
}

/// The positive form of a Numeric or Date operator on an integer.
fn ordering(kind: OpKind, e: Var, c: i128) -> Formula {
    use OpKind::*;
    match kind {
        NumericLessThan | DateLessThan => Formula::Int(e, Cmp::Lt, c),
        NumericLessThanEquals | DateLessThanEquals => Formula::Int(e, Cmp::Le, c),
        NumericGreaterThan | DateGreaterThan => Formula::Int(e, Cmp::Gt, c),
        NumericGreaterThanEquals | DateGreaterThanEquals => Formula::Int(e, Cmp::Ge, c),
        _ => Formula::Int(e, Cmp::Eq, c),
    }
}

/// An IP network as the top bits of an IPv6 address (IPv4 as IPv4-mapped, `::ffff:a.b.c.d`),
/// which is how `IpNet::contains` treats an address of either family.
fn ip_prefix(net: IpNet) -> (u8, u128) {
    match net {
        IpNet::V4(addr, p) => (96 + p, (0xffff_u128 << 32) | u128::from(addr)),
        IpNet::V6(addr, p) => (p, addr),
    }
}

fn render_ip(x: u128) -> String {
    if x >> 32 == 0xffff {
        std::net::Ipv4Addr::from(u32::try_from(x & 0xffff_ffff).unwrap_or(0)).to_string()
    } else {
        std::net::Ipv6Addr::from(x).to_string()
    }
}

/// A decimal as an integer scaled by `10^scale`; `None` if it does not fit.
fn scaled(raw: &str, scale: u32) -> Option<i128> {
    let t = raw.trim();
    let (negative, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let scale_usize = usize::try_from(scale).ok()?;
    if frac.len() > scale_usize {
        return None;
    }
    let mut digits = String::from(int);
    digits.push_str(frac);
    digits.extend(std::iter::repeat_n('0', scale_usize - frac.len()));
    let digits = digits.trim_start_matches('0');
    let n: i128 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    Some(if negative { -n } else { n })
}

fn render_scaled(n: i128, scale: u32) -> String {
    let unit = 10i128.pow(scale);
    let int = n.unsigned_abs() / unit.unsigned_abs();
    let frac = n.unsigned_abs() % unit.unsigned_abs();
    let sign = if n < 0 { "-" } else { "" };
    let width = usize::try_from(scale).unwrap_or(0);
    let frac = format!("{frac:0width$}");
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// A date as text `Timestamp::parse` reads back: epoch seconds, or ISO 8601 with nanoseconds.
fn render_date(t: i128, nanos: bool) -> String {
    if !nanos {
        return t.to_string();
    }
    let secs = t.div_euclid(NANOS);
    let frac = t.rem_euclid(NANOS);
    if frac == 0 {
        return secs.to_string();
    }
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:09}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i128) -> (i128, i128, i128) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Adjacent literal terms joined.
fn merge_literals(terms: Vec<Term>) -> Vec<Term> {
    let mut out: Vec<Term> = Vec::new();
    for t in terms {
        match (out.last_mut(), t) {
            (Some(Term::Lit(a)), Term::Lit(b)) => a.push_str(&b),
            (_, Term::Lit(b)) if b.is_empty() => {}
            (_, t) => out.push(t),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_scale_and_render() {
        assert_eq!(scaled("1.5", 2), Some(150));
        assert_eq!(scaled("-0.25", 3), Some(-250));
        assert_eq!(scaled(" +7 ", 1), Some(70));
        assert_eq!(render_scaled(150, 2), "1.5");
        assert_eq!(render_scaled(-250, 3), "-0.25");
        assert_eq!(render_scaled(70, 1), "7");
    }

    #[test]
    fn dates_render_as_the_parser_reads() {
        for t in
            [0i128, 1_706_702_400 * NANOS + 500_000_000, -NANOS / 2, 253_402_300_799 * NANOS + 1]
        {
            let text = render_date(t, true);
            let back = policy::value::Timestamp::parse(&text).unwrap();
            assert_eq!(i128::from(back.secs) * NANOS + i128::from(back.nanos), t, "{text}");
        }
        assert_eq!(render_date(-5, false), "-5");
    }

    #[test]
    fn addresses_render_by_family() {
        assert_eq!(render_ip((0xffff << 32) | 0x0a00_0001), "10.0.0.1");
        assert_eq!(render_ip(1), "::1");
    }

    #[test]
    fn case_folding_classes() {
        assert!(uppercase_of('k').contains(&'K'));
        assert!(uppercase_of('k').contains(&'\u{212a}'));
        assert!(ignore_case_re("σ").is_err());
    }

    #[test]
    fn address_coverage() {
        let half = 1u128 << 127;
        assert!(covers_every_address(&[(0, 0)], 0, 0));
        assert!(covers_every_address(&[(1, 0), (1, half)], 0, 0));
        assert!(!covers_every_address(&[(1, 0)], 0, 0));
        assert!(!covers_every_address(&[(104, 0xffff_0a00_0000u128 << 16)], 0, 0));
        assert!(!covers_every_address(&[], 0, 0));
        // Two halves of the lower half and the upper half.
        assert!(covers_every_address(&[(2, 0), (2, half >> 1), (1, half)], 0, 0));
        assert!(!covers_every_address(&[(2, 0), (1, half)], 0, 0));
        assert!(!covers_every_address(&[(128, 5), (128, 6)], 0, 0));
    }
}
