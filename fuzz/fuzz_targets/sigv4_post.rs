//! Arbitrary browser-upload form fields through `sigv4::post::parse` and `verify`: never a
//! panic, and nothing verifies without the right signature.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // One field per line, `name=value`.
    let fields: Vec<(&str, &str)> = text.lines().filter_map(|l| l.split_once('=')).collect();
    let field = |name: &str| {
        fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| (*v).to_string())
    };
    if let Ok(post) = sigv4::post::parse(field) {
        let _ = post.access_key_id();
        // Random input must never carry a valid signature.
        assert!(post.verify(&sigv4::Secret::new("secret")).is_err());
    }
});
