//! Onboarding (JSON 1.1 protocol, target prefix `HermeticOnboarding.`): the tenant redeems the
//! invitation the operator made (`HermeticOperator.InviteAccount`) directly with the server and
//! receives its account's root access key. The request needs no signature (the tenant has no
//! credential yet): the code is the proof. The operator never sees the answer, and the code is
//! stored only as its SHA-256, so the operator cannot redeem it in the tenant's place without
//! the tenant noticing (its own redeem then fails as "already redeemed").
//!
//! The event goes to the invited account's log (its first events: invited, then redeemed,
//! when and from which address), whoever calls and whatever the outcome.

use crate::error::ApiError;
use crate::pipeline::service::{
    operations, Authorization, Ctx, Effect, Named, Request, Service, Unrouted,
};
use crate::pipeline::Reply;
use crate::records::accounts::{Invitation, INVITATION_KEY};
use crate::records::Stored;
use serde_json::{json, Value};
use store::{AccountStatus, PutMode};

/// The `X-Amz-Target` prefix of onboarding operations.
pub const TARGET_PREFIX: &str = "HermeticOnboarding.";
/// How an invitation code starts: `HINV-ACCOUNTID-SECRET`.
pub const CODE_PREFIX: &str = "HINV-";

/// The stored form of a code: its SHA-256, lowercase hex.
pub(crate) fn code_hash(code: &str) -> String {
    sigv4::encode::hex(&sigv4::key::sha256(code.as_bytes()))
}

/// The account a code names, if it has the code's shape.
fn account_of(code: &str) -> Option<&str> {
    let (account, secret) = code.strip_prefix(CODE_PREFIX)?.split_once('-')?;
    let shaped = account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && secret.len() == 40
        && secret.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b));
    shaped.then_some(account)
}

fn invalid() -> ApiError {
    ApiError::sender(403, "InvalidInvitationException", "the invitation code is not valid")
}

operations! {
    /// Onboarding's operations.
    OnboardingOperation {
        RedeemInvitation => "hermetic:RedeemInvitation", Write;
    }
}

/// Onboarding (JSON 1.1, unsigned).
pub(crate) struct Onboarding;

/// A redeem call: the code, and the account it names when it has the code's shape.
pub(crate) struct Call {
    operation: OnboardingOperation,
    code: String,
    account: Option<String>,
}

impl Service for Onboarding {
    type Operation = OnboardingOperation;
    type Call = Call;
    const EVENT_SOURCE: &'static str = "hermetic.amazonaws.com";
    const TENANT_ONLY: bool = false;

    fn route(req: &Request<'_>) -> Result<Call, Unrouted<OnboardingOperation>> {
        let target = req.target.unwrap_or_default();
        let name = target.strip_prefix(TARGET_PREFIX).unwrap_or(target);
        let operation = OnboardingOperation::from_name(name)
            .ok_or_else(|| Unrouted::unknown_operation(name))?;
        let body = req.json().map_err(|e| Unrouted::input(operation, e))?;
        let code = body.get("InviteCode").and_then(Value::as_str).ok_or_else(|| {
            Unrouted::input(
                operation,
                ApiError::sender(
                    400,
                    "ValidationException",
                    "`InviteCode` is required and must be a string",
                ),
            )
        })?;
        let account = account_of(code).map(str::to_string);
        Ok(Call { operation, code: code.to_string(), account })
    }

    fn operation(call: &Call) -> OnboardingOperation {
        call.operation
    }

    /// The invited account: its log records every attempt to redeem its code.
    fn named(_: &Request<'_>, call: Option<&Call>) -> Vec<Named> {
        call.and_then(|c| c.account.clone()).map(Named::Account).into_iter().collect()
    }

    /// The account, never the code.
    fn parameters(_: &Request<'_>, call: &Call) -> Option<Value> {
        Some(json!({ "accountId": call.account }))
    }

    /// Anyone holding the code may redeem it; the code is checked in `execute`. (The operator's
    /// own credentials are refused by the pipeline's guardrail: the call names a tenant account.)
    fn authorization(
        _: &Ctx<'_>,
        _: &Request<'_>,
        _: &mut Call,
    ) -> Result<Authorization, ApiError> {
        Ok(Authorization::AnyCaller)
    }

    fn execute<'s>(
        ctx: &Ctx<'s>,
        _: &Request<'_>,
        call: Call,
        effect: &mut Effect<'s>,
    ) -> Result<Reply, ApiError> {
        let Some(id) = call.account.as_deref() else {
            return Err(invalid());
        };
        let (state, now) = (ctx.state, ctx.now());
        let mut tx = state.store.begin()?;
        let account = tx.get_account(id)?.ok_or_else(invalid)?;
        let mut invitation = Stored::<Invitation>::get_for_update(tx.as_mut(), id, INVITATION_KEY)?
            .ok_or_else(invalid)?;
        // The record must be the one the server sealed for this account (fail closed).
        let sealed = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            &invitation.body.seal,
        )
        .ok()
        .and_then(|bytes| state.root.unwrap(&Invitation::context(id), &bytes).ok());
        let expected =
            Invitation::sealed_text(&invitation.body.code_sha256, invitation.body.expires_ms);
        if sealed.is_none_or(|s| s.expose() != expected.as_bytes()) {
            tracing::error!(
                account = %id,
                "ALARM: the invitation of account {id} failed its integrity check: refused (an edited or moved row?)"
            );
            return Err(ApiError::internal(
                "the stored invitation failed its integrity check; the request is refused",
            ));
        }
        let presented = code_hash(&call.code);
        let matches: bool = subtle::ConstantTimeEq::ct_eq(
            presented.as_bytes(),
            invitation.body.code_sha256.as_bytes(),
        )
        .into();
        if !matches {
            return Err(invalid());
        }
        if let Some(at) = invitation.body.redeemed_ms {
            let when = crate::support::time::iso8601(at);
            return Err(ApiError::sender(
                400,
                "InvitationAlreadyRedeemedException",
                format!("this invitation was already redeemed at {when}: if that was not you, tell your operator and do not use the account"),
            ));
        }
        if account.status != AccountStatus::Invited {
            return Err(ApiError::sender(
                400,
                "InvalidAccountStateException",
                "the account is not waiting for its invitation to be redeemed",
            ));
        }
        if now >= invitation.body.expires_ms {
            return Err(ApiError::sender(
                400,
                "ExpiredInvitationException",
                "the invitation has expired: ask the operator for a new one",
            ));
        }
        invitation.body.redeemed_ms = Some(now);
        invitation.updated_at_ms = now;
        invitation.put(tx.as_mut(), PutMode::Update)?;
        tx.set_account_status(id, AccountStatus::Active)?;
        let (key_id, secret) = crate::pipeline::identity::issue_access_key(
            tx.as_mut(),
            state.root.as_ref(),
            id,
            crate::pipeline::identity::KeyOwner::Root,
            now,
        )?;
        effect.tx = Some(tx);
        ctx.touch(id);
        // The event records the key's id, never its secret.
        effect.response = Some(json!({ "AccountId": id, "AccessKeyId": key_id }));
        let secret_text = String::from_utf8_lossy(secret.expose()).into_owned();
        Ok(Reply::json(
            &json!({ "AccountId": id, "AccessKeyId": key_id, "SecretAccessKey": secret_text }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_name_their_account_only_when_well_formed() {
        let secret = "A".repeat(40);
        assert_eq!(account_of(&format!("HINV-123456789012-{secret}")), Some("123456789012"));
        assert_eq!(account_of(&format!("HINV-12345678901-{secret}")), None);
        assert_eq!(account_of(&format!("HINV-123456789012-{}", "a".repeat(40))), None);
        assert_eq!(account_of(&format!("HINV-123456789012-{}", "A".repeat(39))), None);
        assert_eq!(account_of(&format!("XINV-123456789012-{secret}")), None);
        assert_eq!(account_of("HINV-"), None);
    }
}
