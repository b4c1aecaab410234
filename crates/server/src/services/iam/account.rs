//! Account-wide IAM settings: the account alias (unique across accounts, as in AWS) and the
//! password policy.

use crate::error::ApiError;
use crate::pipeline::identity::OPERATOR_ACCOUNT;
use crate::protocol::xml::{self, Xml};
use crate::records::iam::{AccountAlias, AliasIndex, PasswordPolicy};
use crate::records::{PutError, Stored};
use crate::services::iam::input::Input;
use crate::services::iam::IamOperation::{self, self as Op};
use crate::services::iam::{no_such, required};
use store::{PutMode, StoreError, Tx};

/// The key of an account's alias and password policy records.
const ALIAS_KEY: &str = "alias";
const POLICY_KEY: &str = "policy";

/// AWS's alias pattern: 3 to 63 lowercase letters, digits and single hyphens, neither first
/// nor last.
fn check_alias(alias: &str) -> Result<(), ApiError> {
    let b = alias.as_bytes();
    let ok = (3..=63).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b.first() != Some(&b'-')
        && b.last() != Some(&b'-')
        && !alias.contains("--");
    if ok {
        Ok(())
    } else {
        Err(ApiError::sender(
            400,
            "ValidationError",
            format!("1 validation error detected: Value '{alias}' at 'accountAlias' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){{1,61}}[a-z0-9]$"),
        ))
    }
}

/// The password policy as IAM answers it.
fn policy_xml(p: &PasswordPolicy) -> Xml {
    xml::build(|w| {
        w.elem("PasswordPolicy", |w| {
            w.value("MinimumPasswordLength", p.minimum_password_length)
                .value("RequireSymbols", p.require_symbols)
                .value("RequireNumbers", p.require_numbers)
                .value("RequireUppercaseCharacters", p.require_uppercase_characters)
                .value("RequireLowercaseCharacters", p.require_lowercase_characters)
                .value("AllowUsersToChangePassword", p.allow_users_to_change_password)
                .value("ExpirePasswords", p.max_password_age > 0);
            if p.max_password_age > 0 {
                w.value("MaxPasswordAge", p.max_password_age);
            }
            if p.password_reuse_prevention > 0 {
                w.value("PasswordReusePrevention", p.password_reuse_prevention);
            }
            w.value("HardExpiry", p.hard_expiry);
        });
    })
}

/// Runs an account-settings action.
pub fn handle(
    operation: IamOperation,
    tx: &mut dyn Tx,
    account: &str,
    input: &Input,
    now: i64,
) -> Result<Option<Xml>, ApiError> {
    Ok(match operation {
        Op::CreateAccountAlias => {
            let alias = required(input, "AccountAlias")?;
            check_alias(alias)?;
            if let Some(owner) = Stored::<AliasIndex>::get(tx, OPERATOR_ACCOUNT, alias)? {
                if owner.body.account == account {
                    return Ok(None);
                }
                return Err(taken(alias));
            }
            // An account has one alias: a new one replaces (and frees) the old.
            if let Some(old) = Stored::<AccountAlias>::get(tx, account, ALIAS_KEY)? {
                Stored::<AliasIndex>::delete(tx, OPERATOR_ACCOUNT, &old.body.alias)?;
                Stored::<AccountAlias>::delete(tx, account, ALIAS_KEY)?;
            }
            let index = AliasIndex { account: account.to_string() };
            Stored::new(OPERATOR_ACCOUNT, alias, index, now).put(tx, PutMode::Create).map_err(
                |e| match e {
                    PutError::Store(StoreError::AlreadyExists) => taken(alias),
                    other => other.into(),
                },
            )?;
            let record = AccountAlias { alias: alias.to_string(), account: account.to_string() };
            Stored::new(account, ALIAS_KEY, record, now).put(tx, PutMode::Create)?;
            None
        }
        Op::DeleteAccountAlias => {
            let alias = required(input, "AccountAlias")?;
            let current = Stored::<AccountAlias>::get(tx, account, ALIAS_KEY)?
                .filter(|a| a.body.alias == alias)
                .ok_or_else(|| no_such(&format!("The account alias {alias} cannot be found.")))?;
            Stored::<AliasIndex>::delete(tx, OPERATOR_ACCOUNT, &current.body.alias)?;
            Stored::<AccountAlias>::delete(tx, account, ALIAS_KEY)?;
            None
        }
        Op::ListAccountAliases => {
            let alias = Stored::<AccountAlias>::get(tx, account, ALIAS_KEY)?;
            let members: Vec<Xml> = alias
                .iter()
                .map(|a| {
                    xml::build(|w| {
                        w.text("member", &a.body.alias);
                    })
                })
                .collect();
            Some(crate::services::iam::paged(input, "AccountAliases", members)?)
        }
        Op::UpdateAccountPasswordPolicy => {
            // Every setting the request leaves out takes its default, as in AWS.
            let flag = |name: &str| input.flag(name).unwrap_or(false);
            let policy = PasswordPolicy {
                minimum_password_length: input.number("MinimumPasswordLength").unwrap_or(8),
                require_symbols: flag("RequireSymbols"),
                require_numbers: flag("RequireNumbers"),
                require_uppercase_characters: flag("RequireUppercaseCharacters"),
                require_lowercase_characters: flag("RequireLowercaseCharacters"),
                allow_users_to_change_password: flag("AllowUsersToChangePassword"),
                max_password_age: input.number("MaxPasswordAge").unwrap_or(0),
                password_reuse_prevention: input.number("PasswordReusePrevention").unwrap_or(0),
                hard_expiry: flag("HardExpiry"),
            };
            Stored::new(account, POLICY_KEY, policy, now).put(tx, PutMode::Upsert)?;
            None
        }
        Op::GetAccountPasswordPolicy => {
            let policy =
                Stored::<PasswordPolicy>::get(tx, account, POLICY_KEY)?.ok_or_else(|| {
                    no_such(&format!(
                        "The Password Policy with domain name {account} cannot be found."
                    ))
                })?;
            Some(policy_xml(&policy.body))
        }
        Op::DeleteAccountPasswordPolicy => {
            if Stored::<PasswordPolicy>::get(tx, account, POLICY_KEY)?.is_none() {
                return Err(no_such(&format!(
                    "The Password Policy with domain name {account} cannot be found."
                )));
            }
            Stored::<PasswordPolicy>::delete(tx, account, POLICY_KEY)?;
            None
        }
        _ => return Err(ApiError::internal("not an account-settings operation")),
    })
}

fn taken(alias: &str) -> ApiError {
    ApiError::sender(
        409,
        "EntityAlreadyExists",
        format!("The account alias {alias} already exists."),
    )
}
