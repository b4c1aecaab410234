//! Structure-aware random policies for property tests and fuzzing (feature `arbitrary`).
//!
//! Generated policies draw names from small vocabularies so that statements actually overlap
//! with generated requests (random strings would almost never match anything), and render to
//! JSON text so they go through the real parser.

use arbitrary::{Arbitrary, Result, Unstructured};

const SERVICES: &[&str] = &["s3", "iam", "kms", "sts", "ec2", "*", "s?"];
const ACTIONS: &[&str] = &[
    "GetObject",
    "PutObject",
    "Get*",
    "*",
    "List?ucket",
    "ListBucket",
    "Decrypt",
    "AssumeRole",
    "PassRole",
    "RunInstances",
    "Delete*",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::bucket",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket/home/${aws:username}/*",
    "arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'none'}/*",
    "arn:aws:s3:::*",
    "arn:aws:kms:us-east-1:111111111111:key/*",
    "arn:aws:iam::111111111111:role/*",
    "arn:aws:ec2:*:111111111111:instance/*",
    "arn:aws:s3:::b?cket/${*}",
];
const PRINCIPALS: &[(&str, &str)] = &[
    ("AWS", "*"),
    ("AWS", "111111111111"),
    ("AWS", "arn:aws:iam::222222222222:root"),
    ("AWS", "arn:aws:iam::111111111111:user/alice"),
    ("AWS", "arn:aws:iam::111111111111:role/Admin"),
    ("AWS", "arn:aws:sts::111111111111:assumed-role/Admin/s1"),
    ("Service", "s3.amazonaws.com"),
    ("Federated", "accounts.google.com"),
];
const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLike",
    "StringEqualsIgnoreCase",
    "ForAnyValue:StringEquals",
    "ForAllValues:StringLike",
    "StringEqualsIfExists",
    "NumericLessThan",
    "NumericGreaterThanEquals",
    "DateGreaterThan",
    "Bool",
    "IpAddress",
    "NotIpAddress",
    "ArnLike",
    "ArnNotEquals",
    "Null",
    "BinaryEquals",
];
const KEYS: &[&str] = &[
    "aws:username",
    "aws:SourceIp",
    "aws:SecureTransport",
    "aws:CurrentTime",
    "aws:TagKeys",
    "aws:PrincipalArn",
    "s3:prefix",
    "aws:MultiFactorAuthAge",
    "aws:PrincipalTag/team",
];
const VALUES: &[&str] = &[
    "alice",
    "a*",
    "true",
    "false",
    "10.0.0.0/8",
    "2001:db8::/32",
    "2024-01-01T00:00:00Z",
    "3600",
    "arn:aws:iam::111111111111:*",
    "${aws:username}",
    "home/*",
    "QmluYXJ5",
    "team-a",
];

fn pick<'a>(u: &mut Unstructured<'_>, from: &[&'a str]) -> Result<&'a str> {
    Ok(*u.choose(from)?)
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| json_str(s)).collect();
    if quoted.len() == 1 {
        quoted.concat()
    } else {
        format!("[{}]", quoted.join(","))
    }
}

/// A generated statement.
#[derive(Clone, Debug)]
pub struct ArbStatement {
    /// `Allow` when true.
    pub allow: bool,
    /// `NotAction` when true.
    pub not_action: bool,
    /// Action patterns.
    pub actions: Vec<String>,
    /// `None`: no resource element; otherwise (negated, patterns).
    pub resources: Option<(bool, Vec<String>)>,
    /// `None`: no principal element; otherwise (negated, `*` when empty, else (kind, value)).
    pub principal: Option<(bool, Vec<(String, String)>)>,
    /// (operator, key, values).
    pub conditions: Vec<(String, String, Vec<String>)>,
}

impl<'a> Arbitrary<'a> for ArbStatement {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let n_actions = u.int_in_range(1..=3)?;
        let mut actions = Vec::new();
        for _ in 0..n_actions {
            let service = pick(u, SERVICES)?;
            let action = pick(u, ACTIONS)?;
            actions.push(if service == "*" {
                "*".to_string()
            } else {
                format!("{service}:{action}")
            });
        }
        let resources = if u.ratio(1, 6)? {
            None
        } else {
            let n = u.int_in_range(1..=2)?;
            let mut rs = Vec::new();
            for _ in 0..n {
                rs.push(pick(u, RESOURCES)?.to_string());
            }
            Some((u.ratio(1, 6)?, rs))
        };
        let principal = if u.ratio(1, 2)? {
            None
        } else {
            let n = u.int_in_range(0..=2)?;
            let mut ps = Vec::new();
            for _ in 0..n {
                let (k, v) = *u.choose(PRINCIPALS)?;
                ps.push((k.to_string(), v.to_string()));
            }
            Some((u.ratio(1, 8)?, ps))
        };
        let n_conditions = u.int_in_range(0..=2)?;
        let mut conditions: Vec<(String, String, Vec<String>)> = Vec::new();
        for _ in 0..n_conditions {
            let op = pick(u, OPERATORS)?;
            let key = pick(u, KEYS)?;
            if conditions.iter().any(|(o, k, _)| o == op && k.eq_ignore_ascii_case(key)) {
                continue;
            }
            let n_values = u.int_in_range(1..=2)?;
            let mut values = Vec::new();
            for _ in 0..n_values {
                values.push(
                    if op == "Null" { pick(u, &["true", "false"])? } else { pick(u, VALUES)? }
                        .to_string(),
                );
            }
            conditions.push((op.to_string(), key.to_string(), values));
        }
        Ok(ArbStatement {
            allow: u.arbitrary()?,
            not_action: u.ratio(1, 8)?,
            actions,
            resources,
            principal,
            conditions,
        })
    }
}

impl ArbStatement {
    /// The statement as JSON.
    pub fn to_json(&self) -> String {
        let mut fields =
            vec![format!("\"Effect\":\"{}\"", if self.allow { "Allow" } else { "Deny" })];
        fields.push(format!(
            "\"{}\":{}",
            if self.not_action { "NotAction" } else { "Action" },
            json_list(&self.actions)
        ));
        if let Some((negated, rs)) = &self.resources {
            fields.push(format!(
                "\"{}\":{}",
                if *negated { "NotResource" } else { "Resource" },
                json_list(rs)
            ));
        }
        if let Some((negated, ps)) = &self.principal {
            let name = if *negated { "NotPrincipal" } else { "Principal" };
            if ps.is_empty() {
                fields.push(format!("\"{name}\":\"*\""));
            } else {
                let mut by_kind: Vec<(String, Vec<String>)> = Vec::new();
                for (k, v) in ps {
                    match by_kind.iter_mut().find(|(kk, _)| kk == k) {
                        Some((_, vs)) => vs.push(v.clone()),
                        None => by_kind.push((k.clone(), vec![v.clone()])),
                    }
                }
                let inner: Vec<String> = by_kind
                    .iter()
                    .map(|(k, vs)| format!("{}:{}", json_str(k), json_list(vs)))
                    .collect();
                fields.push(format!("\"{name}\":{{{}}}", inner.join(",")));
            }
        }
        if !self.conditions.is_empty() {
            let mut by_op: Vec<(String, Vec<String>)> = Vec::new();
            for (op, key, values) in &self.conditions {
                let entry = format!("{}:{}", json_str(key), json_list(values));
                match by_op.iter_mut().find(|(o, _)| o == op) {
                    Some((_, es)) => {
                        if !es
                            .iter()
                            .any(|e| e.to_lowercase().starts_with(&json_str(key).to_lowercase()))
                        {
                            es.push(entry)
                        }
                    }
                    None => by_op.push((op.clone(), vec![entry])),
                }
            }
            let inner: Vec<String> = by_op
                .iter()
                .map(|(op, es)| format!("{}:{{{}}}", json_str(op), es.join(",")))
                .collect();
            fields.push(format!("\"Condition\":{{{}}}", inner.join(",")));
        }
        format!("{{{}}}", fields.join(","))
    }
}

/// A generated policy document.
#[derive(Clone, Debug)]
pub struct ArbPolicy {
    /// Version 2012-10-17 when true, else 2008-10-17.
    pub current_version: bool,
    /// The statements.
    pub statements: Vec<ArbStatement>,
}

impl<'a> Arbitrary<'a> for ArbPolicy {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let n = u.int_in_range(1..=4)?;
        let mut statements = Vec::new();
        for _ in 0..n {
            statements.push(u.arbitrary()?);
        }
        Ok(ArbPolicy { current_version: !u.ratio(1, 10)?, statements })
    }
}

impl ArbPolicy {
    /// The policy as JSON text.
    pub fn to_json(&self) -> String {
        let statements: Vec<String> = self.statements.iter().map(ArbStatement::to_json).collect();
        format!(
            "{{\"Version\":\"{}\",\"Statement\":[{}]}}",
            if self.current_version { "2012-10-17" } else { "2008-10-17" },
            statements.join(",")
        )
    }
}

/// A generated request: principal, action, resource, account and context.
#[derive(Clone, Debug)]
pub struct ArbRequest {
    /// Principal ARN or name.
    pub principal: String,
    /// Action.
    pub action: String,
    /// Resource ARN.
    pub resource: String,
    /// Resource account.
    pub account: Option<String>,
    /// Context keys with one value or a set.
    pub context: Vec<(String, Vec<String>, bool)>,
}

impl<'a> Arbitrary<'a> for ArbRequest {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let principal = pick(
            u,
            &[
                "arn:aws:iam::111111111111:user/alice",
                "arn:aws:iam::222222222222:user/carol",
                "arn:aws:sts::111111111111:assumed-role/Admin/s1",
                "arn:aws:iam::111111111111:root",
                "arn:aws:sts::111111111111:federated-user/fed",
                "s3.amazonaws.com",
                "accounts.google.com",
                "*",
            ],
        )?
        .to_string();
        let service = pick(u, &["s3", "iam", "kms", "sts", "ec2"])?;
        let action = format!("{service}:{}", pick(u, ACTIONS)?.replace(['*', '?'], "x"));
        let resource = pick(
            u,
            &[
                "arn:aws:s3:::bucket",
                "arn:aws:s3:::bucket/home/alice/a.txt",
                "arn:aws:s3:::bucket/none/x",
                "arn:aws:s3:::bucket/*",
                "arn:aws:kms:us-east-1:111111111111:key/k1",
                "arn:aws:iam::111111111111:role/Admin",
                "arn:aws:ec2:us-east-1:111111111111:instance/i-1",
                "*",
            ],
        )?
        .to_string();
        let account = if u.ratio(1, 3)? {
            Some(pick(u, &["111111111111", "222222222222"])?.to_string())
        } else {
            None
        };
        let n = u.int_in_range(0..=4)?;
        let mut context = Vec::new();
        for _ in 0..n {
            let key = pick(u, KEYS)?.to_string();
            let multi: bool = u.arbitrary()?;
            let count = if multi { u.int_in_range(0..=2)? } else { 1 };
            let mut values = Vec::new();
            for _ in 0..count {
                values.push(pick(u, VALUES)?.to_string());
            }
            context.push((key, values, multi));
        }
        Ok(ArbRequest { principal, action, resource, account, context })
    }
}

impl ArbRequest {
    /// Builds the engine's request (`None` if the principal does not parse).
    pub fn build(&self) -> Option<crate::Request> {
        let principal = crate::Principal::parse(&self.principal).ok()?;
        let mut context = crate::Context::new();
        for (key, values, multi) in &self.context {
            if *multi {
                context.set_multi(key, values.clone());
            } else if let Some(v) = values.first() {
                context.set(key, v.clone());
            }
        }
        Some(crate::Request::new(
            principal,
            &self.action,
            &self.resource,
            self.account.as_deref(),
            context,
        ))
    }
}
