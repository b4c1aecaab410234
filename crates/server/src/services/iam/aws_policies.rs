//! AWS managed policies (`arn:aws:iam::aws:policy/PATH/NAME`): AWS's full set, as data
//! (`crates/server/data/aws-managed-policies.txt`, see the README beside it), each with its
//! default version's document. They belong to no account: any account attaches them, and none
//! changes them.

use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The data file: a header line, then one policy per line.
const DATA: &str = include_str!("../../../data/aws-managed-policies.txt");
/// The ARN prefix of every AWS managed policy.
pub const ARN_PREFIX: &str = "arn:aws:iam::aws:policy";

/// One AWS managed policy.
#[derive(Debug)]
pub struct AwsPolicy {
    pub name: String,
    /// `/`, `/service-role/`, `/aws-service-role/`, `/job-function/` ...
    pub path: String,
    /// The default version's id (`v3`).
    pub version: String,
    pub created: String,
    pub updated: String,
    /// The default version's document, as AWS writes it.
    pub document: String,
}

impl AwsPolicy {
    /// Its ARN.
    pub fn arn(&self) -> String {
        format!("{ARN_PREFIX}{}{}", self.path, self.name)
    }

    /// Its policy id: `ANPA` and 17 characters derived from its ARN (AWS's ids are not in the
    /// data; these are stable across servers and restarts).
    pub fn id(&self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let digest = Sha256::digest(self.arn().as_bytes());
        let tail: String = digest
            .iter()
            .take(17)
            .filter_map(|b| ALPHABET.get(usize::from(*b) % 32))
            .map(|c| char::from(*c))
            .collect();
        format!("ANPA{tail}")
    }
}

#[derive(Deserialize)]
struct Line<'a> {
    n: String,
    p: String,
    v: String,
    c: String,
    u: String,
    #[serde(borrow)]
    doc: &'a RawValue,
}

struct Set {
    policies: Vec<AwsPolicy>,
    by_name: HashMap<String, usize>,
}

fn parse() -> Result<Set, String> {
    let mut lines = DATA.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().unwrap_or_default())
        .map_err(|e| format!("header: {e}"))?;
    let mut policies = Vec::new();
    for (i, line) in lines.enumerate() {
        let l: Line<'_> = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 2))?;
        policies.push(AwsPolicy {
            name: l.n,
            path: l.p,
            version: l.v,
            created: l.c,
            updated: l.u,
            document: l.doc.get().to_string(),
        });
    }
    let count = header.get("count").and_then(serde_json::Value::as_u64);
    if count != u64::try_from(policies.len()).ok() {
        return Err(format!(
            "the header counts {count:?} policies, the file has {}",
            policies.len()
        ));
    }
    let by_name = policies.iter().enumerate().map(|(i, p)| (p.name.clone(), i)).collect();
    Ok(Set { policies, by_name })
}

fn set() -> Option<&'static Set> {
    static SET: OnceLock<Option<Set>> = OnceLock::new();
    // A file that does not parse leaves no AWS policy: attaching or evaluating one then fails
    // (closed), and a unit test keeps it from shipping.
    SET.get_or_init(|| parse().ok()).as_ref()
}

/// Every AWS managed policy, sorted by name.
pub fn all() -> &'static [AwsPolicy] {
    set().map(|s| s.policies.as_slice()).unwrap_or_default()
}

/// Whether `arn` is in AWS's policy namespace (whether or not such a policy exists).
pub fn is_aws_arn(arn: &str) -> bool {
    arn.strip_prefix(ARN_PREFIX).is_some_and(|rest| rest.starts_with('/'))
}

/// The AWS managed policy `arn` names, path and name both matching.
pub fn by_arn(arn: &str) -> Option<&'static AwsPolicy> {
    let rest = arn.strip_prefix(ARN_PREFIX)?;
    let (path, name) = rest.rsplit_once('/')?;
    let set = set()?;
    let policy = set.policies.get(*set.by_name.get(name)?)?;
    (policy.path.strip_suffix('/') == Some(path)).then_some(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_parses_and_finds_policies_by_arn() {
        let set = parse().unwrap();
        assert!(set.policies.len() > 1000, "{}", set.policies.len());
        for p in &set.policies {
            assert!(policy::parse_policy(&p.document).is_ok(), "{} does not parse", p.name);
            assert!(p.path.starts_with('/') && p.path.ends_with('/'), "{}", p.path);
            assert_eq!(by_arn(&p.arn()).map(|q| q.name.as_str()), Some(p.name.as_str()));
        }
        let s3 = by_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess").unwrap();
        assert!(s3.document.contains("s3:Get*"), "{}", s3.document);
        assert!(
            by_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole").is_some()
        );
        assert!(by_arn("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess").is_some());
        // The path is part of the name.
        assert!(by_arn("arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole").is_none());
        assert!(by_arn("arn:aws:iam::aws:policy/NoSuchPolicy").is_none());
        assert!(by_arn("arn:aws:iam::111122223333:policy/AdministratorAccess").is_none());
        let admin = by_arn("arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
        assert_eq!(admin.id(), by_arn(&admin.arn()).unwrap().id());
        assert!(admin.id().starts_with("ANPA") && admin.id().len() == 21);
    }
}
