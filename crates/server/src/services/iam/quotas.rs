//! IAM's default quotas (AWS's numbers), and the checks that enforce them with AWS's
//! `LimitExceeded` (409).

use crate::error::ApiError;

/// Users per account.
pub const USERS: usize = 5000;
/// Groups per account.
pub const GROUPS: usize = 300;
/// Roles per account.
pub const ROLES: usize = 1000;
/// Instance profiles per account.
pub const INSTANCE_PROFILES: usize = 1000;
/// Customer-managed policies per account.
pub const POLICIES: usize = 1500;
/// Groups one user belongs to.
pub const GROUPS_PER_USER: usize = 10;
/// All inline policies of one user together, in characters without whitespace.
pub const USER_POLICY_SIZE: usize = 2048;
/// All inline policies of one group together.
pub const GROUP_POLICY_SIZE: usize = 5120;
/// All inline policies of one role together.
pub const ROLE_POLICY_SIZE: usize = 10240;
/// One managed policy version.
pub const POLICY_SIZE: usize = 6144;
/// One role trust policy.
pub const TRUST_POLICY_SIZE: usize = 2048;

fn exceeded(message: String) -> ApiError {
    ApiError::sender(409, "LimitExceeded", message)
}

/// A policy's size as IAM counts it: characters other than whitespace.
pub fn size(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

/// Refuses one more entity of `kind` when the account has `quota` already.
pub fn check_count(
    tx: &mut dyn store::ReadTx,
    account: &str,
    kind: &str,
    quota: usize,
    name: &str,
) -> Result<(), ApiError> {
    if crate::support::records::list(tx, account, kind, "", quota)?.len() >= quota {
        return Err(exceeded(format!("Cannot exceed quota for {name}: {quota}")));
    }
    Ok(())
}

/// Refuses a document over `quota` characters (`what`: AWS's quota name).
pub fn check_size(document: &str, quota: usize, what: &str) -> Result<(), ApiError> {
    if size(document) > quota {
        return Err(exceeded(format!("Cannot exceed quota for {what}: {quota}")));
    }
    Ok(())
}

/// Refuses inline policies of one owner that together exceed `quota`; `others` are the owner's
/// other inline policies (not the one being replaced).
pub fn check_aggregate(
    others: &[(String, String)],
    new: &str,
    quota: usize,
    owner: &str,
    name: &str,
) -> Result<(), ApiError> {
    let total: usize = others.iter().map(|(_, d)| size(d)).sum::<usize>() + size(new);
    if total > quota {
        return Err(exceeded(format!(
            "Maximum policy size of {quota} bytes exceeded for {owner} {name}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_ignore_whitespace_and_aggregate() {
        assert_eq!(size("{ \"a\" :\n 1 }"), 7);
        assert!(check_size(&"x".repeat(6144), POLICY_SIZE, "PolicySize").is_ok());
        let e = check_size(&"x".repeat(6145), POLICY_SIZE, "PolicySize").unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (409, "LimitExceeded"));
        let others = vec![("a".to_string(), "x".repeat(2000))];
        assert!(check_aggregate(&others, &"y".repeat(48), USER_POLICY_SIZE, "user", "u").is_ok());
        let e = check_aggregate(&others, &"y".repeat(49), USER_POLICY_SIZE, "user", "u");
        assert_eq!(e.unwrap_err().message, "Maximum policy size of 2048 bytes exceeded for user u");
    }
}
