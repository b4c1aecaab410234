#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Laws of the evaluator, checked on generated policies and requests:
//! statement order never matters; adding a Deny never turns a deny into an allow; adding an
//! Allow never turns an allow into a deny; evaluation never panics.

use arbitrary::{Arbitrary, Unstructured};
use policy::arb::{ArbPolicy, ArbRequest, ArbStatement};
use policy::{evaluate, parse_policy, Decision, NamedPolicy, OrgLevel, Policy, PolicySet};
use proptest::prelude::*;

/// A generated scenario: a request and policies of every type.
#[derive(Clone, Debug)]
struct Scenario {
    request: ArbRequest,
    identity: Vec<ArbPolicy>,
    resource: Option<ArbPolicy>,
    boundary: Option<ArbPolicy>,
    session: Option<ArbPolicy>,
    scp: Vec<ArbPolicy>,
    rcp: Vec<ArbPolicy>,
}

impl<'a> Arbitrary<'a> for Scenario {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let list = |u: &mut Unstructured<'a>, max: usize| -> arbitrary::Result<Vec<ArbPolicy>> {
            let n = u.int_in_range(0..=max)?;
            (0..n).map(|_| u.arbitrary()).collect()
        };
        let identity = list(u, 3)?;
        let scp = list(u, 2)?;
        let rcp = list(u, 1)?;
        Ok(Scenario {
            request: u.arbitrary()?,
            identity,
            resource: if u.arbitrary()? { Some(u.arbitrary()?) } else { None },
            boundary: if u.ratio(1, 4)? { Some(u.arbitrary()?) } else { None },
            session: if u.ratio(1, 4)? { Some(u.arbitrary()?) } else { None },
            scp,
            rcp,
        })
    }
}

fn parse(p: &ArbPolicy) -> Option<Policy> {
    parse_policy(&p.to_json()).ok()
}

/// Evaluates the scenario; `None` when a generated policy does not parse.
fn decide(s: &Scenario) -> Option<Decision> {
    let request = s.request.build()?;
    let identity: Vec<Policy> = s.identity.iter().map(parse).collect::<Option<_>>()?;
    let resource = match &s.resource {
        Some(p) => Some(parse(p)?),
        None => None,
    };
    let boundary = match &s.boundary {
        Some(p) => Some(parse(p)?),
        None => None,
    };
    let session = match &s.session {
        Some(p) => Some(parse(p)?),
        None => None,
    };
    let scp: Vec<Policy> = s.scp.iter().map(parse).collect::<Option<_>>()?;
    let rcp: Vec<Policy> = s.rcp.iter().map(parse).collect::<Option<_>>()?;
    let set = PolicySet {
        identity: identity.iter().map(named).collect(),
        resource: resource.as_ref().map(named),
        boundaries: boundary.iter().map(named).collect(),
        session: session.iter().map(named).collect(),
        // One SCP level per generated SCP: every level must allow.
        service_control: scp
            .iter()
            .map(|p| OrgLevel { org_identifier: "ou", policies: vec![named(p)] })
            .collect(),
        resource_control: rcp
            .iter()
            .map(|p| OrgLevel { org_identifier: "ou", policies: vec![named(p)] })
            .collect(),
    };
    Some(evaluate(&request, &set).decision)
}

fn named(p: &Policy) -> NamedPolicy<'_> {
    NamedPolicy { name: "p", policy: p }
}

/// Every policy of the scenario, mutable, to add statements to.
fn policies_mut(s: &mut Scenario) -> Vec<&mut ArbPolicy> {
    let mut out: Vec<&mut ArbPolicy> = s.identity.iter_mut().collect();
    out.extend(s.resource.iter_mut());
    out.extend(s.boundary.iter_mut());
    out.extend(s.session.iter_mut());
    out.extend(s.scp.iter_mut());
    out.extend(s.rcp.iter_mut());
    out
}

fn scenario(bytes: &[u8]) -> Option<Scenario> {
    Scenario::arbitrary(&mut Unstructured::new(bytes)).ok()
}

fn statement(bytes: &[u8], allow: bool) -> Option<ArbStatement> {
    let mut st = ArbStatement::arbitrary(&mut Unstructured::new(bytes)).ok()?;
    st.allow = allow;
    Some(st)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn evaluation_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Some(s) = scenario(&bytes) {
            let _ = decide(&s);
        }
    }

    #[test]
    fn statement_order_never_matters(
        bytes in proptest::collection::vec(any::<u8>(), 64..2048),
        seed in any::<u64>(),
    ) {
        let Some(s) = scenario(&bytes) else { return Ok(()) };
        let Some(before) = decide(&s) else { return Ok(()) };
        let mut shuffled = s.clone();
        let mut state = seed;
        for p in policies_mut(&mut shuffled) {
            // Fisher-Yates with a small LCG driven by the seed.
            for i in (1..p.statements.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let j = (state >> 33) as usize % (i + 1);
                p.statements.swap(i, j);
            }
        }
        prop_assert_eq!(decide(&shuffled), Some(before));
    }

    #[test]
    fn adding_a_deny_never_allows(
        bytes in proptest::collection::vec(any::<u8>(), 64..2048),
        extra in proptest::collection::vec(any::<u8>(), 16..256),
        which in any::<usize>(),
    ) {
        let Some(mut s) = scenario(&bytes) else { return Ok(()) };
        let Some(before) = decide(&s) else { return Ok(()) };
        let Some(st) = statement(&extra, false) else { return Ok(()) };
        let mut targets = policies_mut(&mut s);
        if targets.is_empty() { return Ok(()) }
        let n = targets.len();
        targets[which % n].statements.push(st);
        if let Some(after) = decide(&s) {
            if before != Decision::Allowed {
                prop_assert_ne!(after, Decision::Allowed);
            }
        }
    }

    #[test]
    fn adding_an_allow_never_denies(
        bytes in proptest::collection::vec(any::<u8>(), 64..2048),
        extra in proptest::collection::vec(any::<u8>(), 16..256),
        which in any::<usize>(),
    ) {
        let Some(mut s) = scenario(&bytes) else { return Ok(()) };
        let Some(before) = decide(&s) else { return Ok(()) };
        let Some(st) = statement(&extra, true) else { return Ok(()) };
        let mut targets = policies_mut(&mut s);
        if targets.is_empty() { return Ok(()) }
        let n = targets.len();
        targets[which % n].statements.push(st);
        if let Some(after) = decide(&s) {
            if before == Decision::Allowed {
                prop_assert_eq!(after, Decision::Allowed);
            }
        }
    }
}

/// The generator must produce policies the parser accepts, or the laws above test nothing.
#[test]
fn generated_policies_mostly_parse() {
    let mut parsed = 0;
    let mut decided = 0;
    let mut allowed = 0;
    for seed in 0u32..400 {
        let bytes: Vec<u8> = (0..1024u32)
            .map(|i| (seed.wrapping_mul(2654435761).wrapping_add(i.wrapping_mul(40503)) >> 7) as u8)
            .collect();
        let Some(s) = scenario(&bytes) else { continue };
        if s.identity.iter().all(|p| parse(p).is_some()) {
            parsed += 1;
        }
        if let Some(d) = decide(&s) {
            decided += 1;
            if d == Decision::Allowed {
                allowed += 1;
            }
        }
    }
    assert!(parsed > 300, "only {parsed} of 400 generated scenarios parsed");
    assert!(decided > 200, "only {decided} of 400 scenarios were decided");
    assert!(allowed > 5, "only {allowed} scenarios were allowed: the laws would be vacuous");
}
