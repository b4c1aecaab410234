#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Signed notes and checkpoints: interoperability with Go's `sumdb/note` (a published vector),
//! round trips, and tampering with any field failing verification.

use audit::checkpoint::{Checkpoint, CheckpointError};
use audit::merkle::{consistency_proof, inclusion_proof, leaf_hash, root, CompactRange, Hash};
use audit::note::{open_note, sign_note, NoteError, SigningKey, VerifierKey};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use proptest::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct NoteVector {
    signer_key: String,
    verifier_key: String,
    text: String,
    note: String,
}

fn go_vector() -> NoteVector {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/signed_note.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Go's private key string: `PRIVATE+KEY+<name>+<id>+base64(0x01 || seed)`.
fn go_signer(skey: &str) -> SigningKey {
    let parts: Vec<&str> = skey.splitn(5, '+').collect();
    assert_eq!(&parts[..2], ["PRIVATE", "KEY"]);
    let raw = BASE64.decode(parts[4]).unwrap();
    assert_eq!(raw[0], 1, "ed25519");
    SigningKey::from_slice(parts[2], &raw[1..]).unwrap()
}

const ORIGIN: &str = "hermetic.example/audit/111122223333";

fn log_key() -> SigningKey {
    SigningKey::from_seed(ORIGIN, &[0x42; 32]).unwrap()
}

#[test]
fn go_sumdb_note_vector_signs_byte_for_byte_and_opens() {
    let v = go_vector();
    let signer = go_signer(&v.signer_key);
    assert_eq!(signer.verifier().to_string(), v.verifier_key);
    assert_eq!(sign_note(&v.text, &[&signer]).unwrap(), v.note);
    let verifier = VerifierKey::parse(&v.verifier_key).unwrap();
    assert_eq!(verifier, signer.verifier());
    assert_eq!(open_note(&v.note, &verifier).unwrap(), v.text);
    // One changed letter breaks it.
    let tampered = v.note.replace("cryptography", "cryptographY");
    assert_eq!(
        open_note(&tampered, &verifier),
        Err(NoteError::BadSignature("PeterNeumann".into()))
    );
}

#[test]
fn verifier_key_strings_are_checked() {
    let v = go_vector();
    assert!(VerifierKey::parse(&v.verifier_key).is_ok());
    for bad in [
        v.verifier_key.replace("c74f20a3", "c74f20a4"),
        v.verifier_key.replace("PeterNeumann", "PeterNeuman"),
        v.verifier_key.replace("+ARpc", "+AhRpc"),
        v.verifier_key.replace("+A", "+B"),
        "PeterNeumann+c74f20a3".into(),
        String::new(),
    ] {
        assert!(VerifierKey::parse(&bad).is_err(), "{bad}");
    }
}

#[test]
fn unknown_signers_are_ignored_and_missing_signer_fails() {
    let v = go_vector();
    let peter = VerifierKey::parse(&v.verifier_key).unwrap();
    let other = SigningKey::from_seed("witness.example", &[9; 32]).unwrap();
    let both = sign_note(&v.text, &[&other, &go_signer(&v.signer_key)]).unwrap();
    assert_eq!(open_note(&both, &peter).unwrap(), v.text);
    assert_eq!(open_note(&both, &other.verifier()).unwrap(), v.text);
    let only_other = sign_note(&v.text, &[&other]).unwrap();
    assert_eq!(open_note(&only_other, &peter), Err(NoteError::NoSignature("PeterNeumann".into())));
    // A key with the same name but another key id is a different key.
    let impostor = SigningKey::from_seed("PeterNeumann", &[1; 32]).unwrap();
    let forged = sign_note(&v.text, &[&impostor]).unwrap();
    assert!(open_note(&forged, &peter).is_err());
}

#[test]
fn too_many_signatures_are_refused() {
    let v = go_vector();
    let line = v.note.split_once("\n\n").unwrap().1;
    let mut note = v.text.clone() + "\n";
    for _ in 0..101 {
        note.push_str(line);
    }
    let peter = VerifierKey::parse(&v.verifier_key).unwrap();
    assert_eq!(open_note(&note, &peter), Err(NoteError::TooManySignatures));
}

#[test]
fn checkpoint_text_layout() {
    let leaves: Vec<Hash> = (0u8..5).map(|i| leaf_hash(&[i])).collect();
    let cp = Checkpoint::new(ORIGIN, 5, root(&leaves), 1_700_000_000_123).unwrap();
    let body = cp.body();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0], ORIGIN);
    assert_eq!(lines[1], "5");
    assert_eq!(BASE64.decode(lines[2]).unwrap(), root(&leaves));
    assert_eq!(lines[3], "1700000000123");
    assert_eq!(Checkpoint::parse_body(&body).unwrap(), cp);
    let signed = cp.sign(&log_key()).unwrap();
    assert!(signed.starts_with(&(body.clone() + "\n\u{2014} " + ORIGIN + " ")));
    assert!(signed.ends_with('\n'));
}

#[test]
fn checkpoint_round_trip_and_proofs() {
    let key = log_key();
    let leaves: Vec<Hash> = (0u16..300).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let mut cr = CompactRange::new();
    for l in &leaves[..200] {
        cr.append(*l).unwrap();
    }
    let old = Checkpoint::of_range(ORIGIN, &cr, 1_000).unwrap();
    for l in &leaves[200..] {
        cr.append(*l).unwrap();
    }
    let new = Checkpoint::of_range(ORIGIN, &cr, 2_000).unwrap();
    let opened = Checkpoint::open(&new.sign(&key).unwrap(), ORIGIN, &key.verifier()).unwrap();
    assert_eq!(opened, new);
    let proof = inclusion_proof(&leaves, 123, 300).unwrap();
    opened.verify_inclusion(&leaves[123], 123, &proof).unwrap();
    assert!(opened.verify_inclusion(&leaves[124], 123, &proof).is_err());
    let proof = consistency_proof(&leaves, 200, 300).unwrap();
    old.verify_extended_by(&opened, &proof).unwrap();
    assert!(opened.verify_extended_by(&old, &proof).is_err());
    let earlier = Checkpoint::new(ORIGIN, 300, *new.root(), 999).unwrap();
    assert_eq!(old.verify_extended_by(&earlier, &proof), Err(CheckpointError::TimeGoesBackwards));
    let other = Checkpoint::new("another", 300, *new.root(), 2_000).unwrap();
    assert!(matches!(
        old.verify_extended_by(&other, &proof),
        Err(CheckpointError::WrongOrigin { .. })
    ));
}

#[test]
fn tampering_any_field_fails() {
    let key = log_key();
    let cp = Checkpoint::new(ORIGIN, 42, leaf_hash(b"root"), 1_700_000_000_000).unwrap();
    let signed = cp.sign(&key).unwrap();
    let v = key.verifier();
    let root_b64 = BASE64.encode(cp.root());
    let other_root = BASE64.encode(leaf_hash(b"other"));
    for (field, tampered) in [
        ("origin", signed.replacen(ORIGIN, "hermetic.example/audit/444455556666", 1)),
        ("size", signed.replacen("\n42\n", "\n43\n", 1)),
        ("root", signed.replacen(&root_b64, &other_root, 1)),
        ("time", signed.replacen("1700000000000", "1700000000001", 1)),
        ("extra line", signed.replacen("1700000000000\n", "1700000000000\nx\n", 1)),
    ] {
        assert_ne!(tampered, signed, "{field}");
        assert!(Checkpoint::open(&tampered, ORIGIN, &v).is_err(), "{field}");
    }
    // A valid checkpoint of another log, checked against this log's origin.
    let key2 = SigningKey::from_seed("hermetic.example/audit/444455556666", &[0x42; 32]).unwrap();
    let cp2 = Checkpoint::new("hermetic.example/audit/444455556666", 42, *cp.root(), 0).unwrap();
    let err = Checkpoint::open(&cp2.sign(&key2).unwrap(), ORIGIN, &key2.verifier());
    assert!(matches!(err, Err(CheckpointError::WrongOrigin { .. })));
    // Another key.
    let stranger = SigningKey::from_seed(ORIGIN, &[0x43; 32]).unwrap();
    assert!(Checkpoint::open(&signed, ORIGIN, &stranger.verifier()).is_err());
}

#[test]
fn non_canonical_bodies_are_refused() {
    let root = BASE64.encode([7u8; 32]);
    for bad in [
        format!("o\n01\n{root}\n0\n"),
        format!("o\n1\n{root}\n"),
        format!("o\n1\n{root}\n0\nextra\n"),
        format!("o\n1\n{root}\n0"),
        format!("o\n1\n{}\n0\n", BASE64.encode([7u8; 31])),
        format!("o\n1\n{}\n0\n", root.trim_end_matches('=')),
        format!("\n1\n{root}\n0\n"),
    ] {
        assert!(Checkpoint::parse_body(&bad).is_err(), "{bad:?}");
    }
}

proptest! {
    /// Changing any one character of a signed checkpoint makes it fail to open.
    #[test]
    fn any_changed_character_fails(
        size in any::<u64>(),
        time in any::<u64>(),
        root in any::<[u8; 32]>(),
        at in any::<prop::sample::Index>(),
        with in prop::char::range(' ', '~'),
    ) {
        let key = log_key();
        let signed = Checkpoint::new(ORIGIN, size, root, time).unwrap().sign(&key).unwrap();
        let chars: Vec<char> = signed.chars().collect();
        let i = at.index(chars.len());
        prop_assume!(chars[i] != with);
        let mut tampered = chars.clone();
        tampered[i] = with;
        let tampered: String = tampered.into_iter().collect();
        prop_assert!(Checkpoint::open(&tampered, ORIGIN, &key.verifier()).is_err());
        prop_assert!(Checkpoint::open(&signed, ORIGIN, &key.verifier()).is_ok());
    }
}
