//! Human explanations of decisions, in the words AWS's `AccessDenied` messages use.

use crate::evaluate::{AwsRule, Decision, Evaluation, StatementRef};
use crate::request::Request;
use std::fmt::Write;

impl Evaluation {
    /// The reason clause: `because no identity-based policy allows the s3:GetObject action`,
    /// `with an explicit deny in a service control policy`, `because the resource is an AWS
    /// managed policy, which only AWS can change`, or for an allow, what granted it.
    pub fn reason(&self, request: &Request) -> String {
        match (self.decision, self.rule) {
            (Decision::Allowed, Some(AwsRule::NoPermissionRequired)) => format!(
                "allowed without any policy: the {} action needs no permission from an \
                 authenticated caller",
                request.action
            ),
            (Decision::ImplicitlyDenied, Some(AwsRule::AwsOwned(owned))) => format!(
                "because the resource is {}, which only AWS can change: no policy can allow the \
                 {} action on it",
                owned.phrase(),
                request.action
            ),
            (decision, _) => self.policy_reason(decision, request),
        }
    }

    /// The reason clause when the policies decided.
    fn policy_reason(&self, decision: Decision, request: &Request) -> String {
        match decision {
            Decision::ExplicitlyDenied => match self.statements.first() {
                Some(s) => format!("with an explicit deny in {}", s.policy_type.with_article()),
                None => "with an explicit deny".into(),
            },
            Decision::ImplicitlyDenied => match self.missing_allow {
                Some(t) => {
                    format!("because no {} allows the {} action", t.phrase(), request.action)
                }
                None => format!("because no policy allows the {} action", request.action),
            },
            Decision::Allowed => {
                let mut out = String::from("allowed by ");
                let refs: Vec<String> = self.statements.iter().map(describe).collect();
                out.push_str(&refs.join(", "));
                out
            }
        }
    }

    /// The full `AccessDenied` message AWS would return (for a denial), e.g.
    /// `User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:GetObject on
    /// resource: arn:aws:s3:::bucket/key because no identity-based policy allows the
    /// s3:GetObject action`.
    pub fn access_denied_message(&self, request: &Request) -> String {
        format!(
            "User: {} is not authorized to perform: {} on resource: {} {}",
            request.principal.arn,
            request.action,
            request.resource,
            self.reason(request)
        )
    }

    /// A multi-line explanation: decision, reason, deciding statements and errors.
    pub fn explain(&self, request: &Request) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}: {}", self.decision.as_str(), self.reason(request));
        if self.decision != Decision::Allowed {
            let _ = writeln!(out, "  message: {}", self.access_denied_message(request));
        }
        for s in &self.statements {
            let _ = writeln!(out, "  {} {}", s.effect, describe(s));
        }
        for e in &self.errors {
            let _ = writeln!(out, "  error: {e}");
        }
        out
    }
}

/// `identity-based policy "ReadOnly" statement 2 (Sid "AllowGet")`.
pub fn describe(s: &StatementRef) -> String {
    let mut out = format!("{} `{}`", s.policy_type.phrase(), s.policy);
    if let Some(org) = &s.org_identifier {
        let _ = write!(out, " at `{org}`");
    }
    let _ = write!(out, " statement {}", s.index);
    if let Some(sid) = &s.sid {
        let _ = write!(out, " (Sid `{sid}`)");
    }
    out
}
