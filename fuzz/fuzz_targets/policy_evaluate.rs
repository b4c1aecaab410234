//! Structure-aware: generated policies and requests through evaluation; never a panic.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use policy::arb::{ArbPolicy, ArbRequest};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(req), Ok(a), Ok(b)) =
        (u.arbitrary::<ArbRequest>(), u.arbitrary::<ArbPolicy>(), u.arbitrary::<ArbPolicy>())
    else {
        return;
    };
    let Some(request) = req.build() else { return };
    let (Ok(a), Ok(b)) = (policy::parse_policy(&a.to_json()), policy::parse_policy(&b.to_json()))
    else {
        return;
    };
    let set = policy::PolicySet {
        identity: vec![policy::NamedPolicy { name: "a", policy: &a }],
        resource: Some(policy::NamedPolicy { name: "b", policy: &b }),
        boundaries: vec![policy::NamedPolicy { name: "a", policy: &a }],
        ..Default::default()
    };
    let _ = policy::evaluate(&request, &set);
});
