//! Any text through the policy parser and validator: never a panic, and a parsed policy
//! always evaluates.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(p) = policy::parse_policy(text) {
        let request = policy::Request::new(
            policy::Principal::parse("arn:aws:iam::111111111111:user/alice").unwrap(),
            "s3:GetObject",
            "arn:aws:s3:::bucket/key",
            None,
            policy::Context::new(),
        );
        let set = policy::PolicySet {
            identity: vec![policy::NamedPolicy { name: "p", policy: &p }],
            resource: Some(policy::NamedPolicy { name: "r", policy: &p }),
            ..Default::default()
        };
        let _ = policy::evaluate(&request, &set);
    }
});
