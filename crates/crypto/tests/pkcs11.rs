#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The PKCS#11 root of trust against a real SoftHSM2 token in a temporary directory.
//!
//! Needs the `softhsm2` package (`softhsm2-util` and the module). Without it this test FAILS: it
//! does not skip. The module is looked for at `$SOFTHSM2_MODULE`, then at the usual paths.
//!
//! Everything runs in one `#[test]`: `SOFTHSM2_CONF` must be set before the process's one
//! `C_Initialize`, and the PKCS#11 login state is shared by the whole process.

use crypto::pkcs11::{shared_context, Pkcs11Config, Pkcs11Error, Pkcs11Root, FORMAT, IV_LEN};
use crypto::{EnvelopeError, RootOfTrust, SecretBytes};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass};
use cryptoki::session::Session;
use cryptoki::types::Ulong;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

const TOKEN: &str = "hermetic-test";
const PIN: &str = "1234";
const SO_PIN: &str = "5678";
const MODULE_PATHS: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
];

/// A SoftHSM2 token directory with one initialized token, and `SOFTHSM2_CONF` pointing at it.
struct SoftHsm {
    dir: tempfile::TempDir,
    module: PathBuf,
}

impl SoftHsm {
    fn new() -> SoftHsm {
        let module = std::env::var_os("SOFTHSM2_MODULE")
            .map(PathBuf::from)
            .into_iter()
            .chain(MODULE_PATHS.iter().map(PathBuf::from))
            .find(|p| p.exists())
            .unwrap_or_else(|| {
                panic!(
                    "the SoftHSM2 PKCS#11 module is not installed (looked at $SOFTHSM2_MODULE and \
                     {MODULE_PATHS:?}): install it with `apt-get install softhsm2`"
                )
            });
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        // Before the first `C_Initialize` in this process, and while no other test thread runs.
        std::env::set_var("SOFTHSM2_CONF", &conf);
        let output = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args(["--init-token", "--free", "--label", TOKEN, "--so-pin", SO_PIN, "--pin", PIN])
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `softhsm2-util` ({e}): install SoftHSM2 with \
                     `apt-get install softhsm2`; this test does not skip without it"
                )
            });
        assert!(
            output.status.success(),
            "softhsm2-util --init-token failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        SoftHsm { dir, module }
    }

    fn config(&self, key_label: &str, pin: &str) -> Pkcs11Config {
        Pkcs11Config {
            module: self.module.clone(),
            token_label: TOKEN.to_owned(),
            pin: SecretBytes::new(pin.as_bytes().to_vec()),
            key_label: key_label.to_owned(),
        }
    }

    /// A session of our own, through the process's shared context. It sees private objects only
    /// while some root keeps the token logged in.
    fn session(&self) -> Session {
        let context = shared_context(&self.module).unwrap();
        let slot = context
            .get_slots_with_initialized_token()
            .unwrap()
            .into_iter()
            .find(|s| context.get_token_info(*s).unwrap().label() == TOKEN)
            .expect("the test token");
        context.open_rw_session(slot).unwrap()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn softhsm2_root_of_trust() {
    let hsm = SoftHsm::new();
    assert!(hsm.dir.path().join("softhsm2.conf").exists());

    let config = hsm.config("hermetic-root", PIN);
    let debug = format!("{config:?}");
    assert!(!debug.contains(PIN) && debug.contains("[redacted]"), "config Debug: {debug}");

    let root = Pkcs11Root::open(&config).unwrap();
    let debug = format!("{root:?}");
    assert!(!debug.contains(PIN), "root Debug: {debug}");

    round_trip(&root);
    tampering_fails(&root);
    wraps_are_fresh_and_hide_the_plaintext(&root);
    reopening_finds_the_same_key(&hsm, &root);
    another_label_is_another_key(&hsm, &root);
    key_attributes(&hsm);
    unsuitable_or_ambiguous_keys_are_refused(&hsm);
    ed25519_keys_are_made_and_used_in_the_token(&hsm, &root);
    concurrent_use(root);
    wrong_pin_and_token(&hsm);
}

fn round_trip(root: &Pkcs11Root) {
    for (context, plaintext) in [
        (&b"access-key/AKIAEXAMPLE"[..], &b"a data key of 32 bytes, exactly!"[..]),
        (b"", b"empty context"),
        (b"empty plaintext", b""),
        (b"large", &[0xa5; 10_000][..]),
    ] {
        let wrapped = root.wrap(context, plaintext).unwrap();
        assert_eq!(wrapped[0], FORMAT);
        assert_eq!(wrapped.len(), 1 + IV_LEN + plaintext.len() + 16);
        assert_eq!(root.unwrap(context, &wrapped).unwrap().expose(), plaintext);
    }
}

fn tampering_fails(root: &Pkcs11Root) {
    let context = b"kms/key/1234";
    let wrapped = root.wrap(context, b"the data key").unwrap();

    assert_eq!(root.unwrap(b"kms/key/1235", &wrapped).unwrap_err(), EnvelopeError::Unauthentic);
    assert_eq!(root.unwrap(b"", &wrapped).unwrap_err(), EnvelopeError::Unauthentic);
    assert_eq!(root.unwrap(b"kms/key/12345", &wrapped).unwrap_err(), EnvelopeError::Unauthentic);

    // One flipped bit anywhere: the format byte, the IV, the ciphertext or the tag.
    for index in 0..wrapped.len() {
        for bit in [0, 3, 7] {
            let mut flipped = wrapped.clone();
            flipped[index] ^= 1 << bit;
            let expected =
                if index == 0 { EnvelopeError::Malformed } else { EnvelopeError::Unauthentic };
            assert_eq!(root.unwrap(context, &flipped).unwrap_err(), expected, "byte {index}");
        }
    }

    // Every truncation, and an extension.
    for len in 0..wrapped.len() {
        let error = root.unwrap(context, &wrapped[..len]).unwrap_err();
        let expected = if len < 1 + IV_LEN + 16 {
            EnvelopeError::Malformed
        } else {
            EnvelopeError::Unauthentic
        };
        assert_eq!(error, expected, "truncated to {len}");
    }
    let mut longer = wrapped.clone();
    longer.push(0);
    assert_eq!(root.unwrap(context, &longer).unwrap_err(), EnvelopeError::Unauthentic);

    // Another format byte, including the envelope format's.
    for format in [0x00, 0x01, 0x4f, 0x51, 0xff] {
        let mut other = wrapped.clone();
        other[0] = format;
        assert_eq!(root.unwrap(context, &other).unwrap_err(), EnvelopeError::Malformed);
    }

    // The untouched blob still opens: failures left the session usable.
    assert_eq!(root.unwrap(context, &wrapped).unwrap().expose(), b"the data key");
}

fn wraps_are_fresh_and_hide_the_plaintext(root: &Pkcs11Root) {
    let plaintext = b"PLAINTEXT-MARKER-that-must-never-appear-in-the-wrapped-output";
    let a = root.wrap(b"ctx", plaintext).unwrap();
    let b = root.wrap(b"ctx", plaintext).unwrap();
    assert_ne!(a, b);
    assert_ne!(a[1..1 + IV_LEN], b[1..1 + IV_LEN], "IVs must differ");
    for wrapped in [&a, &b] {
        assert!(!contains(wrapped, plaintext));
        assert!(!contains(wrapped, b"PLAINTEXT-MARKER"));
        assert!(!contains(wrapped, b"ctx"), "the context is authenticated, not stored");
    }
}

fn reopening_finds_the_same_key(hsm: &SoftHsm, first: &Pkcs11Root) {
    let wrapped = first.wrap(b"ctx", b"kept across opens").unwrap();
    // While the first root keeps the token logged in.
    let second = Pkcs11Root::open(&hsm.config("hermetic-root", PIN)).unwrap();
    assert_eq!(second.unwrap(b"ctx", &wrapped).unwrap().expose(), b"kept across opens");
    let back = second.wrap(b"ctx2", b"the other way").unwrap();
    assert_eq!(first.unwrap(b"ctx2", &back).unwrap().expose(), b"the other way");
    drop(second);
    // The first root's session survives the second one closing.
    assert_eq!(first.unwrap(b"ctx", &wrapped).unwrap().expose(), b"kept across opens");
}

fn another_label_is_another_key(hsm: &SoftHsm, root: &Pkcs11Root) {
    let other = Pkcs11Root::open(&hsm.config("another-root", PIN)).unwrap();
    let wrapped = root.wrap(b"ctx", b"secret").unwrap();
    assert_eq!(other.unwrap(b"ctx", &wrapped).unwrap_err(), EnvelopeError::Unauthentic);
    let wrapped = other.wrap(b"ctx", b"secret").unwrap();
    assert_eq!(root.unwrap(b"ctx", &wrapped).unwrap_err(), EnvelopeError::Unauthentic);
}

fn key_attributes(hsm: &SoftHsm) {
    let session = hsm.session();
    let keys = session
        .find_objects(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::Label(b"hermetic-root".to_vec()),
        ])
        .unwrap();
    assert_eq!(keys.len(), 1, "exactly one root key in the token");
    let key = keys[0];
    let attributes = session
        .get_attributes(
            key,
            &[
                AttributeType::KeyType,
                AttributeType::ValueLen,
                AttributeType::Token,
                AttributeType::Private,
                AttributeType::Sensitive,
                AttributeType::Extractable,
                AttributeType::AlwaysSensitive,
                AttributeType::NeverExtractable,
                AttributeType::Encrypt,
                AttributeType::Decrypt,
                AttributeType::Derive,
            ],
        )
        .unwrap();
    for expected in [
        Attribute::KeyType(KeyType::AES),
        Attribute::ValueLen(Ulong::try_from(32usize).unwrap()),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::AlwaysSensitive(true),
        Attribute::NeverExtractable(true),
        Attribute::Encrypt(true),
        Attribute::Decrypt(true),
        Attribute::Derive(false),
    ] {
        assert!(attributes.contains(&expected), "{expected:?} missing from {attributes:?}");
    }
    // The HSM refuses to reveal the value.
    let info = session.get_attribute_info(key, &[AttributeType::Value]).unwrap();
    assert!(matches!(info[..], [AttributeInfo::Sensitive]), "CKA_VALUE: {info:?}");
}

/// An Ed25519 signing key (the checkpoint key's kind) is made in the token on first use, found
/// again after, never lets its private half out, and signs what its public key verifies.
fn ed25519_keys_are_made_and_used_in_the_token(hsm: &SoftHsm, root: &Pkcs11Root) {
    let label = "test-ed25519";
    assert!(root.sign_ed25519(label, b"m").is_err(), "no key yet");
    let public = root.ed25519_signing_key(label).unwrap().unwrap();
    assert_eq!(root.ed25519_signing_key(label).unwrap(), Some(public), "found, not made again");
    let reopened = Pkcs11Root::open(&hsm.config("hermetic-root", PIN)).unwrap();
    assert_eq!(reopened.ed25519_signing_key(label).unwrap(), Some(public));
    let verifier = ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap();
    for message in [&b""[..], b"hermetic/123456789012\n5\nroot\n"] {
        let sig: [u8; 64] = root.sign_ed25519(label, message).unwrap().try_into().unwrap();
        verifier.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&sig)).unwrap();
    }
    let session = hsm.session();
    let private = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .unwrap();
    let [key] = private[..] else { panic!("one private key: {private:?}") };
    let attributes = session
        .get_attributes(
            key,
            &[AttributeType::Sensitive, AttributeType::Extractable, AttributeType::Private],
        )
        .unwrap();
    for expected in
        [Attribute::Sensitive(true), Attribute::Extractable(false), Attribute::Private(true)]
    {
        assert!(attributes.contains(&expected), "{expected:?} missing from {attributes:?}");
    }
    let info = session.get_attribute_info(key, &[AttributeType::Value]).unwrap();
    assert!(matches!(info[..], [AttributeInfo::Sensitive]), "CKA_VALUE: {info:?}");
}

fn unsuitable_or_ambiguous_keys_are_refused(hsm: &SoftHsm) {
    let session = hsm.session();
    let generate = |label: &str, extractable: bool| {
        session
            .generate_key(
                &Mechanism::AesKeyGen,
                &[
                    Attribute::ValueLen(Ulong::try_from(32usize).unwrap()),
                    Attribute::Label(label.as_bytes().to_vec()),
                    Attribute::Token(true),
                    Attribute::Private(true),
                    Attribute::Sensitive(!extractable),
                    Attribute::Extractable(extractable),
                    Attribute::Encrypt(true),
                    Attribute::Decrypt(true),
                ],
            )
            .unwrap()
    };
    generate("planted-extractable", true);
    match Pkcs11Root::open(&hsm.config("planted-extractable", PIN)) {
        Err(Pkcs11Error::KeyUnsuitable { reason, .. }) => assert_eq!(reason, "it is not sensitive"),
        other => panic!("an extractable key was accepted: {other:?}"),
    }
    generate("twice", false);
    generate("twice", false);
    assert!(matches!(
        Pkcs11Root::open(&hsm.config("twice", PIN)),
        Err(Pkcs11Error::KeyAmbiguous(label)) if label == "twice"
    ));
}

fn concurrent_use(root: Pkcs11Root) {
    let root = Arc::new(root);
    let threads: Vec<_> = (0..4u8)
        .map(|t| {
            let root = Arc::clone(&root);
            std::thread::spawn(move || {
                for i in 0..25u8 {
                    let context = [t, i];
                    let wrapped = root.wrap(&context, &[t; 40]).unwrap();
                    assert_eq!(root.unwrap(&context, &wrapped).unwrap().expose(), [t; 40]);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

fn wrong_pin_and_token(hsm: &SoftHsm) {
    // Every root is closed now, so the token is logged out and the HSM itself checks the PIN.
    let wrong = hsm.config("hermetic-root", "4321");
    assert!(matches!(Pkcs11Root::open(&wrong), Err(Pkcs11Error::PinIncorrect(t)) if t == TOKEN));

    // While a root keeps the token logged in, PKCS#11 would not check the PIN again: we do.
    let root = Pkcs11Root::open(&hsm.config("hermetic-root", PIN)).unwrap();
    let error = Pkcs11Root::open(&wrong).unwrap_err();
    assert!(matches!(error, Pkcs11Error::PinIncorrect(_)), "{error:?}");
    let message = error.to_string();
    assert!(!message.contains("4321") && !message.contains(PIN), "{message}");
    assert!(Pkcs11Root::open(&hsm.config("hermetic-root", "")).is_err());
    drop(root);

    let mut config = hsm.config("hermetic-root", PIN);
    config.token_label = "no-such-token".into();
    assert!(matches!(
        Pkcs11Root::open(&config),
        Err(Pkcs11Error::TokenNotFound(label)) if label == "no-such-token"
    ));
    let mut config = hsm.config("hermetic-root", PIN);
    config.module = Path::new("/nonexistent/libpkcs11.so").to_path_buf();
    assert!(matches!(Pkcs11Root::open(&config), Err(Pkcs11Error::Module { .. })));
}
