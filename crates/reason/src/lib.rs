//! Automated reasoning over IAM policies (issue 7; design in docs/decisions/006): policies are
//! encoded as formulas over a symbolic request, a [`Solver`] (Z3) decides them, and every
//! satisfying model is decoded into a concrete request and **replayed through
//! `policy::evaluate`** before it is reported. A model that does not replay is reported as a
//! bug, never as a finding.
//!
//! Questions about identity policies are answered in the identity view (an IAM user of one
//! account, with any name, acting on its own account's resources, with any request context);
//! constructs not encoded yet are answered [`Answer::Unknown`] with the reason.

pub mod encode;
pub mod external;
pub mod ir;
pub mod principal;
pub mod scenario;
pub mod solver;

pub use encode::View;
use encode::{Query, Unsupported};
use ir::Formula;
use policy::pattern::Glob;
use policy::{Decision, NamedPolicy, Policy, PolicySet, Principal, Request};
use principal::Kind;
pub use solver::{Sat, Solver, Z3};

/// The account of the identity view.
pub const ACCOUNT: &str = "111122223333";

/// A concrete request that shows an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    pub principal: String,
    pub action: String,
    pub resource: String,
    /// Context keys (lowercase) with their values, and whether the key is multivalued.
    pub context: Vec<(String, Vec<String>, bool)>,
}

impl Witness {
    /// The request context.
    pub fn context(&self) -> policy::Context {
        let mut context = policy::Context::new();
        for (key, values, multi) in &self.context {
            if *multi {
                context.set_multi(key, values.clone());
            } else if let Some(v) = values.first() {
                context.set(key, v.clone());
            }
        }
        context
    }

    /// One line: who does what on which resource, and with which context.
    pub fn describe(&self) -> String {
        let mut out = format!("{} may {} on {}", self.principal, self.action, self.resource);
        for (i, (key, values, multi)) in self.context.iter().enumerate() {
            out.push_str(if i == 0 { " with " } else { ", " });
            if *multi {
                out.push_str(&format!("{key} = {values:?}"));
            } else {
                out.push_str(&format!("{key} = {:?}", values.first().map_or("", String::as_str)));
            }
        }
        out
    }
}

/// An answer: yes (with a witness that replayed), no (proved), unknown (with the reason), or a
/// bug (a model that did not replay: an encoder defect, reported as such).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Yes(Witness),
    No,
    Unknown(String),
    Bug(String),
}

/// How two policies compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// Something `a` allows and `b` does not.
    pub a_not_b: Answer,
    /// Something `b` allows and `a` does not.
    pub b_not_a: Answer,
}

/// The verdict of a [`Comparison`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Equivalent,
    MorePermissive,
    LessPermissive,
    Incomparable,
    Unknown,
}

impl Comparison {
    /// `a` compared with `b`.
    pub fn verdict(&self) -> Verdict {
        match (&self.a_not_b, &self.b_not_a) {
            (Answer::No, Answer::No) => Verdict::Equivalent,
            (Answer::Yes(_), Answer::No) => Verdict::MorePermissive,
            (Answer::No, Answer::Yes(_)) => Verdict::LessPermissive,
            (Answer::Yes(_), Answer::Yes(_)) => Verdict::Incomparable,
            _ => Verdict::Unknown,
        }
    }
}

/// Compares two identity policies: is there a request one allows and the other does not, in
/// each direction?
pub fn compare(a: &Policy, b: &Policy, solver: &mut dyn Solver) -> Comparison {
    compare_in(&View::Identity, a, b, solver)
}

/// Compares two policies read from `view`'s side.
pub fn compare_in(view: &View, a: &Policy, b: &Policy, solver: &mut dyn Solver) -> Comparison {
    let query = match Query::new(&[a, b], &[], view.clone()) {
        Ok(q) => q,
        Err(Unsupported(why)) => {
            return Comparison {
                a_not_b: Answer::Unknown(why.clone()),
                b_not_a: Answer::Unknown(why),
            }
        }
    };
    let one_way = |x: &Policy, y: &Policy, solver: &mut dyn Solver| -> Answer {
        search(solver, &query, &[(x, true), (y, false)], |_| Ok(Formula::True))
    };
    Comparison { a_not_b: one_way(a, b, solver), b_not_a: one_way(b, a, solver) }
}

/// Whether `p` allows any request whose action matches one of `actions` and whose resource
/// matches one of `resources` (IAM patterns; an empty list means any). Access Analyzer's
/// CheckAccessNotGranted fails exactly when this is yes.
pub fn grants(p: &Policy, actions: &[&str], resources: &[&str], solver: &mut dyn Solver) -> Answer {
    grants_in(&View::Identity, p, actions, resources, solver)
}

/// [`grants`] with the policy read from `view`'s side.
pub fn grants_in(
    view: &View,
    p: &Policy,
    actions: &[&str],
    resources: &[&str],
    solver: &mut dyn Solver,
) -> Answer {
    let action_globs: Vec<Glob> =
        actions.iter().map(|a| Glob::new(&a.to_lowercase(), true)).collect();
    let query = match Query::new(&[p], &action_globs, view.clone()) {
        Ok(q) => q,
        Err(Unsupported(why)) => return Answer::Unknown(why),
    };
    let within = within(&query, &action_globs, resources);
    search(solver, &query, &[(p, true)], |_| Ok(within.clone()))
}

/// The requests whose action matches one of `actions` and resource one of `resources` (an
/// empty list: any).
fn within(query: &Query, actions: &[Glob], resources: &[&str]) -> Formula {
    let action_in = if actions.is_empty() {
        Formula::True
    } else {
        let mut all = Vec::new();
        for g in actions {
            for c in query.actions.matching(g) {
                if !all.contains(&c) {
                    all.push(c);
                }
            }
        }
        Formula::ActionIn(all)
    };
    let resource_in = if resources.is_empty() {
        Formula::True
    } else {
        Formula::or(
            resources
                .iter()
                .map(|r| Formula::In(query.resource, encode::resource_re(&Glob::new(r, true))))
                .collect(),
        )
    };
    Formula::and(vec![action_in, resource_in])
}

/// Condition keys whose fixed values keep a policy from being public (decision 006, §5): S3's
/// definition of a public policy and Access Analyzer's finding keys.
pub const FIXING_KEYS: &[&str] = &[
    "aws:SourceIp",
    "aws:VpcSourceIp",
    "aws:SourceVpc",
    "aws:SourceVpcArn",
    "aws:SourceVpce",
    "aws:VpceAccount",
    "aws:VpceOrgID",
    "aws:VpceOrgPaths",
    "aws:SourceArn",
    "aws:SourceAccount",
    "aws:SourceOwner",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName",
    "aws:userid",
    "kms:CallerAccount",
    "s3:DataAccessPointArn",
    "s3:DataAccessPointAccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "cognito-identity.amazonaws.com:aud",
    "accounts.google.com:aud",
    "graph.facebook.com:app_id",
    "www.amazon.com:app_id",
];

/// Whether resource policy `p` of a resource in account `owner` grants access to anyone: an
/// anonymous caller, or a caller of any kind from an account the policy does not name, with
/// every fixing key ([`FIXING_KEYS`]) absent or holding a value the policy does not name
/// (outside every range it names, for addresses). `actions` and `resources` narrow the
/// question (empty: any).
pub fn public(
    p: &Policy,
    owner: &str,
    actions: &[&str],
    resources: &[&str],
    solver: &mut dyn Solver,
) -> Answer {
    let action_globs: Vec<Glob> =
        actions.iter().map(|a| Glob::new(&a.to_lowercase(), true)).collect();
    let view = View::Resource { owner: owner.to_string() };
    let query = match Query::new(&[p], &action_globs, view) {
        Ok(q) => q,
        Err(Unsupported(why)) => return Answer::Unknown(why),
    };
    let mut accounts = accounts_in(p);
    accounts.push(owner.to_string());
    let within = within(&query, &action_globs, resources);
    search(solver, &query, &[(p, true)], |kind| match kind {
        Some(k) if !public_kind(k) => Ok(Formula::False),
        Some(k) => Ok(Formula::and(vec![
            within.clone(),
            query.account_outside(k, &accounts),
            query.fresh_keys(&query.fixing_values(k, FIXING_KEYS, &[p]), &[]),
        ])),
        None => Ok(Formula::False),
    })
}

/// Access Analyzer's resource types for CheckNoPublicAccess we can scope: the actions and the
/// resource ARNs of each (`None`: not supported).
pub fn resource_type_scope(t: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    Some(match t {
        "AWS::S3::Bucket" => (&["s3:*"], &["arn:aws:s3:::*"]),
        "AWS::S3::AccessPoint" => (&["s3:*"], &["arn:aws:s3:*:*:accesspoint/*"]),
        "AWS::S3::Glacier" => (&["glacier:*"], &["arn:aws:glacier:*:*:vaults/*"]),
        "AWS::S3Express::DirectoryBucket" => {
            (&["s3express:*"], &["arn:aws:s3express:*:*:bucket/*"])
        }
        "AWS::KMS::Key" => (&["kms:*"], &["arn:aws:kms:*:*:key/*"]),
        "AWS::IAM::AssumeRolePolicyDocument" => (&["sts:AssumeRole*"], &["arn:aws:iam::*:role/*"]),
        "AWS::SQS::Queue" => (&["sqs:*"], &["arn:aws:sqs:*:*:*"]),
        "AWS::SNS::Topic" => (&["sns:*"], &["arn:aws:sns:*:*:*"]),
        "AWS::Lambda::Function" => (&["lambda:*"], &["arn:aws:lambda:*:*:function:*"]),
        "AWS::SecretsManager::Secret" => {
            (&["secretsmanager:*"], &["arn:aws:secretsmanager:*:*:secret:*"])
        }
        "AWS::DynamoDB::Table" => (&["dynamodb:*"], &["arn:aws:dynamodb:*:*:table/*"]),
        "AWS::DynamoDB::Stream" => (&["dynamodb:*"], &["arn:aws:dynamodb:*:*:table/*/stream/*"]),
        "AWS::EFS::FileSystem" => {
            (&["elasticfilesystem:*"], &["arn:aws:elasticfilesystem:*:*:file-system/*"])
        }
        "AWS::Kinesis::Stream" => (&["kinesis:*"], &["arn:aws:kinesis:*:*:stream/*"]),
        "AWS::OpenSearchService::Domain" => (&["es:*"], &["arn:aws:es:*:*:domain/*"]),
        "AWS::Backup::BackupVault" => (&["backup:*"], &["arn:aws:backup:*:*:backup-vault:*"]),
        "AWS::CodeArtifact::Domain" => {
            (&["codeartifact:*"], &["arn:aws:codeartifact:*:*:domain/*"])
        }
        "AWS::ApiGateway::RestApi" => (&["execute-api:*"], &["arn:aws:execute-api:*:*:*"]),
        _ => return None,
    })
}

/// Callers `public` looks for: anyone not inside AWS (services are not another party).
fn public_kind(kind: Kind) -> bool {
    !matches!(kind, Kind::Service | Kind::WebIdentity)
}

/// Every 12-digit run in the policy's principals, resources and condition values.
pub fn accounts_in(p: &Policy) -> Vec<String> {
    let mut texts: Vec<&str> = principal::entries(&[p]).map(|e| e.value.as_str()).collect();
    for s in &p.statements {
        texts.extend(s.resource.iter().flat_map(|c| c.resources.iter()).map(|r| r.raw.as_str()));
        texts.extend(s.conditions.iter().flat_map(|c| c.values.iter()).map(|v| v.raw.as_str()));
    }
    let mut out: Vec<String> = Vec::new();
    for run in texts.into_iter().flat_map(principal::account_runs) {
        if !out.iter().any(|o| o == run) {
            out.push(run.to_string());
        }
    }
    out
}

/// The one account a resource policy's resources name, or the identity view's.
pub fn owner_of(p: &Policy) -> String {
    let mut owners: Vec<String> = Vec::new();
    for r in p.statements.iter().flat_map(|s| s.resource.iter()).flat_map(|c| &c.resources) {
        if let Some(a) = policy::request::account_in_arn(&r.raw) {
            if !owners.iter().any(|o| o == a) {
                owners.push(a.to_string());
            }
        }
    }
    match owners.as_slice() {
        [one] => one.clone(),
        _ => ACCOUNT.to_string(),
    }
}

/// Looks for a request every `(policy, allowed)` pair agrees with (the policy allows it iff
/// `allowed`), also satisfying `extra(kind)`: one query per caller kind of the view, each
/// model replayed through the evaluator.
pub(crate) fn search(
    solver: &mut dyn Solver,
    query: &Query,
    expected: &[(&Policy, bool)],
    extra: impl Fn(Option<Kind>) -> Result<Formula, Unsupported>,
) -> Answer {
    let encode = |kind: Option<Kind>| encode_expected(query, expected, kind);
    search_encoded(solver, query, expected, encode, extra)
}

/// The space of requests of caller `kind` and each `(policy, allowed)` pair's formula.
pub(crate) fn encode_expected(
    query: &Query,
    expected: &[(&Policy, bool)],
    kind: Option<Kind>,
) -> Result<Formula, Unsupported> {
    let mut parts = vec![query.space(kind)];
    for (p, allowed) in expected {
        let f = match kind {
            None => query.allows(p)?,
            Some(k) => query.resource_allows(p, k)?,
        };
        parts.push(if *allowed { f } else { f.negate() });
    }
    Ok(Formula::and(parts))
}

/// [`search`] with the policies already encoded per caller kind by `encoded` (a question that
/// asks many times encodes once, [`encode_expected`]).
pub(crate) fn search_encoded(
    solver: &mut dyn Solver,
    query: &Query,
    expected: &[(&Policy, bool)],
    encoded: impl Fn(Option<Kind>) -> Result<Formula, Unsupported>,
    extra: impl Fn(Option<Kind>) -> Result<Formula, Unsupported>,
) -> Answer {
    let kinds: Vec<Option<Kind>> = match query.view {
        View::Identity => vec![None],
        View::Resource { .. } => Kind::ALL.iter().map(|k| Some(*k)).collect(),
        View::Caller { .. } => {
            return Answer::Unknown("a scenario is answered by `scenario`, not by `search`".into())
        }
    };
    let mut unknown = None;
    for kind in kinds {
        // The question's own constraint first: callers it rules out cost no encoding.
        let own = match extra(kind) {
            Ok(Formula::False) => continue,
            Ok(f) => f,
            Err(Unsupported(why)) => return Answer::Unknown(why),
        };
        let formula = match encoded(kind) {
            Ok(f) => Formula::and(vec![f, own]),
            Err(Unsupported(why)) => return Answer::Unknown(why),
        };
        if formula == Formula::False {
            continue;
        }
        match solver.check(&formula, &query.vars, query.actions.classes.len()) {
            Sat::No => {}
            Sat::Unknown(why) => unknown = Some(why),
            Sat::Yes(model) => {
                let Some(witness) = query.decode(&model, kind) else {
                    return Answer::Bug(format!(
                        "action class {} out of range",
                        model.action_class
                    ));
                };
                for (p, allowed) in expected {
                    match view_allows(&query.view, p, &witness) {
                        Ok(got) if got == *allowed => {}
                        Ok(got) => {
                            return Answer::Bug(format!(
                                "the witness {witness:?} does not replay: the evaluator says allowed = {got}, the formula {allowed}"
                            ))
                        }
                        Err(e) => return Answer::Bug(e),
                    }
                }
                return Answer::Yes(witness);
            }
        }
    }
    unknown.map_or(Answer::No, Answer::Unknown)
}

/// The `Allow` statements of `p` (index and `Sid`) that let the witness through, read from
/// `view`'s side: the reasons a check names.
pub fn allowing_statements(
    view: &View,
    p: &Policy,
    witness: &Witness,
) -> Vec<(usize, Option<String>)> {
    evaluate_in(view, p, witness)
        .map(|evaluation| {
            evaluation
                .statements
                .iter()
                .filter(|s| s.policy == "policy" && s.effect == policy::Effect::Allow)
                .map(|s| (s.index, s.sid.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The evaluator's decision for `witness` with `p` as the principal's only identity policy and
/// a resource policy that delegates to the account (so the identity policy decides).
pub fn identity_view_allows(p: &Policy, witness: &Witness) -> Result<bool, String> {
    view_allows(&View::Identity, p, witness)
}

/// The evaluator's decision for `witness` with `p` read from `view`'s side.
pub fn view_allows(view: &View, p: &Policy, witness: &Witness) -> Result<bool, String> {
    evaluate_in(view, p, witness).map(|evaluation| evaluation.decision == Decision::Allowed)
}

/// Evaluates the witness in a view: the identity view's delegating resource policy, or the
/// resource view's empty (owner account) or allow-all (other accounts) identity policies.
fn evaluate_in(view: &View, p: &Policy, witness: &Witness) -> Result<policy::Evaluation, String> {
    let parse = |text: &str| {
        policy::parse_policy(text).map_err(|e| format!("a view policy does not parse: {e:?}"))
    };
    let principal = Principal::parse(&witness.principal)
        .map_err(|_| format!("the witness principal {} does not parse", witness.principal))?;
    let owner = match view {
        View::Identity => ACCOUNT.to_string(),
        View::Resource { owner } => owner.clone(),
        View::Caller { .. } => return Err("a scenario replays with its own policy set".into()),
    };
    let cross = principal.account.as_deref() != Some(owner.as_str());
    let request = Request::new(
        principal,
        &witness.action,
        &witness.resource,
        Some(&owner),
        witness.context(),
    );
    let other = match view {
        View::Caller { .. } => return Err("a scenario replays with its own policy set".into()),
        View::Identity => parse(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"*","Resource":"*"}}]}}"#
        ))?,
        View::Resource { .. } => parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )?,
    };
    let set = match view {
        View::Caller { .. } => return Err("a scenario replays with its own policy set".into()),
        View::Identity => PolicySet {
            identity: vec![NamedPolicy { name: "policy", policy: p }],
            resource: Some(NamedPolicy { name: "delegation", policy: &other }),
            ..PolicySet::default()
        },
        View::Resource { .. } => PolicySet {
            identity: if cross {
                vec![NamedPolicy { name: "allow-all", policy: &other }]
            } else {
                Vec::new()
            },
            resource: Some(NamedPolicy { name: "policy", policy: p }),
            ..PolicySet::default()
        },
    };
    Ok(policy::evaluate(&request, &set))
}
