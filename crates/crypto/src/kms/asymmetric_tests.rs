//! Tests of `asymmetric`: every spec and algorithm, cross-checked with ring; OAEP known answers
//! from OpenSSL (fixtures in `crates/crypto/tests/data`).

use super::*;
use ring::signature::{self as ring_sig, VerificationAlgorithm};
use std::sync::OnceLock;

const MESSAGE: &[u8] = b"Hermetic signs this message";

/// One key pair per spec per test run: RSA key generation is slow in debug builds (the
/// workspace compiles `rsa` and `num-bigint-dig` optimized even there; without that, RSA_4096
/// alone takes about a minute).
fn key(spec: AsymmetricSpec) -> &'static (SecretBytes, Vec<u8>) {
    static KEYS: [OnceLock<(SecretBytes, Vec<u8>)>; 5] = [const { OnceLock::new() }; 5];
    let i = AsymmetricSpec::ALL.iter().position(|s| *s == spec).unwrap();
    KEYS[i].get_or_init(|| generate_pair(spec).unwrap())
}

/// A second RSA_2048 key pair, for wrong-key checks and the OpenSSL known answers.
fn other_rsa_2048() -> &'static (SecretBytes, Vec<u8>) {
    static KEY: OnceLock<(SecretBytes, Vec<u8>)> = OnceLock::new();
    KEY.get_or_init(|| fixed_pair(AsymmetricSpec::Rsa2048, RSA_2048_PEM))
}

fn fixed_pair(spec: AsymmetricSpec, pem: &str) -> (SecretBytes, Vec<u8>) {
    let der = RsaPrivateKey::from_pkcs8_pem(pem).unwrap().to_pkcs8_der().unwrap();
    let private = SecretBytes::new(der.as_bytes().to_vec());
    let public = public_key_der(spec, private.expose()).unwrap();
    (private, public)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// A fixed RSA_2048 test key (made with `openssl genpkey`; it protects nothing).
const RSA_2048_PEM: &str = include_str!("../../tests/data/oaep-test-key.pem");

/// `Hermetic OAEP known answer` encrypted by `openssl pkeyutl` under `RSA_2048_PEM` with
/// OAEP and MGF1 over SHA-1, then over SHA-256.
const OPENSSL_OAEP_SHA_1: &str = include_str!("../../tests/data/oaep-sha1.hex");
const OPENSSL_OAEP_SHA_256: &str = include_str!("../../tests/data/oaep-sha256.hex");

fn raw_public_key(spki_der: &[u8]) -> Vec<u8> {
    let spki = spki::SubjectPublicKeyInfoRef::try_from(spki_der).unwrap();
    spki.subject_public_key.raw_bytes().to_vec()
}

/// ring's verification algorithm for ours (salt length = hash length for PSS).
fn ring_algorithm(alg: SigningAlgorithm) -> &'static dyn VerificationAlgorithm {
    match alg {
        SigningAlgorithm::RsassaPkcs1V15Sha256 => &ring_sig::RSA_PKCS1_2048_8192_SHA256,
        SigningAlgorithm::RsassaPkcs1V15Sha384 => &ring_sig::RSA_PKCS1_2048_8192_SHA384,
        SigningAlgorithm::RsassaPkcs1V15Sha512 => &ring_sig::RSA_PKCS1_2048_8192_SHA512,
        SigningAlgorithm::RsassaPssSha256 => &ring_sig::RSA_PSS_2048_8192_SHA256,
        SigningAlgorithm::RsassaPssSha384 => &ring_sig::RSA_PSS_2048_8192_SHA384,
        SigningAlgorithm::RsassaPssSha512 => &ring_sig::RSA_PSS_2048_8192_SHA512,
        SigningAlgorithm::EcdsaSha256 => &ring_sig::ECDSA_P256_SHA256_ASN1,
        SigningAlgorithm::EcdsaSha384 => &ring_sig::ECDSA_P384_SHA384_ASN1,
    }
}

/// Signs `MESSAGE` with ring, from our PKCS#8 private key.
fn ring_sign(alg: SigningAlgorithm, private_pkcs8: &[u8]) -> Vec<u8> {
    let rng = ring::rand::SystemRandom::new();
    let rsa_padding: &'static dyn ring_sig::RsaEncoding = match alg {
        SigningAlgorithm::RsassaPkcs1V15Sha256 => &ring_sig::RSA_PKCS1_SHA256,
        SigningAlgorithm::RsassaPkcs1V15Sha384 => &ring_sig::RSA_PKCS1_SHA384,
        SigningAlgorithm::RsassaPkcs1V15Sha512 => &ring_sig::RSA_PKCS1_SHA512,
        SigningAlgorithm::RsassaPssSha256 => &ring_sig::RSA_PSS_SHA256,
        SigningAlgorithm::RsassaPssSha384 => &ring_sig::RSA_PSS_SHA384,
        SigningAlgorithm::RsassaPssSha512 => &ring_sig::RSA_PSS_SHA512,
        SigningAlgorithm::EcdsaSha256 | SigningAlgorithm::EcdsaSha384 => {
            let signing = if alg == SigningAlgorithm::EcdsaSha256 {
                &ring_sig::ECDSA_P256_SHA256_ASN1_SIGNING
            } else {
                &ring_sig::ECDSA_P384_SHA384_ASN1_SIGNING
            };
            let pair = ring_sig::EcdsaKeyPair::from_pkcs8(signing, private_pkcs8, &rng).unwrap();
            return pair.sign(&rng, MESSAGE).unwrap().as_ref().to_vec();
        }
    };
    let pair = ring_sig::RsaKeyPair::from_pkcs8(private_pkcs8).unwrap();
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(rsa_padding, &rng, MESSAGE, &mut signature).unwrap();
    signature
}

/// Every allowed algorithm of `spec`: sign and verify as Raw and as Digest (either way
/// round), tampering fails, ring verifies ours and we verify ring's.
fn check_sign_verify(spec: AsymmetricSpec) {
    let (private, public) = key(spec);
    let private = private.expose();
    let mut signatures = Vec::new();
    for &alg in spec.signing_algorithms() {
        let digest = alg.hash().digest(MESSAGE);
        assert_eq!(digest.len(), alg.digest_len());
        let raw_sig = sign(spec, private, alg, MESSAGE, MessageType::Raw).unwrap();
        let digest_sig = sign(spec, private, alg, &digest, MessageType::Digest).unwrap();
        for signature in [&raw_sig, &digest_sig] {
            assert!(verify(spec, public, alg, MESSAGE, MessageType::Raw, signature).unwrap());
            assert!(verify(spec, public, alg, &digest, MessageType::Digest, signature).unwrap());
            if let Some(bits) = spec.rsa_bits() {
                assert_eq!(signature.len() * 8, bits, "{alg}");
            } else {
                assert_eq!(signature.first(), Some(&0x30), "{alg}: a DER SEQUENCE");
            }
            // ring, from the SPKI's key bits (PKCS#1 RSAPublicKey or the uncompressed point).
            ring_sig::UnparsedPublicKey::new(ring_algorithm(alg), raw_public_key(public))
                .verify(MESSAGE, signature)
                .unwrap_or_else(|_| panic!("ring rejects our {spec} {alg} signature"));
        }

        // Tampering: another message or digest, flipped bits, wrong lengths, garbage.
        let verifies = |message: &[u8], kind, signature: &[u8]| {
            verify(spec, public, alg, message, kind, signature).unwrap()
        };
        assert!(!verifies(b"Hermetic signs this massage", MessageType::Raw, &raw_sig));
        let mut other_digest = digest.clone();
        other_digest[0] ^= 1;
        assert!(!verifies(&other_digest, MessageType::Digest, &raw_sig));
        let last = raw_sig.len() - 1;
        for (i, bit) in [(0, 0x80), (0, 0x01), (1, 0x01), (last / 2, 0x10), (last, 0x01)] {
            let mut bad = raw_sig.clone();
            bad[i] ^= bit;
            assert!(!verifies(MESSAGE, MessageType::Raw, &bad), "{alg} byte {i} bit {bit}");
        }
        assert!(!verifies(MESSAGE, MessageType::Raw, &raw_sig[..last]));
        let mut longer = raw_sig.clone();
        longer.push(0);
        assert!(!verifies(MESSAGE, MessageType::Raw, &longer));
        assert!(!verifies(MESSAGE, MessageType::Raw, &[]));
        assert!(!verifies(MESSAGE, MessageType::Raw, &[0xff; 600]));
        assert!(!verifies(MESSAGE, MessageType::Raw, &vec![0; raw_sig.len()]));

        // We verify what ring signs with our private key (so ring parses our PKCS#8 too).
        let theirs = ring_sign(alg, private);
        assert!(verifies(MESSAGE, MessageType::Raw, &theirs), "ring's {spec} {alg}");
        assert!(verifies(&digest, MessageType::Digest, &theirs), "ring's {spec} {alg}");
        signatures.push((alg, raw_sig));
    }

    // A signature verifies under its own algorithm only (RSA: not under the other paddings
    // and hashes).
    for (alg, signature) in &signatures {
        for &other in spec.signing_algorithms() {
            let ok = verify(spec, public, other, MESSAGE, MessageType::Raw, signature);
            assert_eq!(ok.unwrap(), other == *alg, "signed {alg}, verified {other}");
        }
    }
}

#[test]
fn sign_verify_rsa_2048() {
    check_sign_verify(AsymmetricSpec::Rsa2048);
}

#[test]
fn sign_verify_rsa_3072() {
    check_sign_verify(AsymmetricSpec::Rsa3072);
}

#[test]
fn sign_verify_rsa_4096() {
    check_sign_verify(AsymmetricSpec::Rsa4096);
}

#[test]
fn sign_verify_ecc_nist_p256() {
    check_sign_verify(AsymmetricSpec::EccNistP256);
}

#[test]
fn sign_verify_ecc_nist_p384() {
    check_sign_verify(AsymmetricSpec::EccNistP384);
}

#[test]
fn ecdsa_signatures_are_randomized_and_another_key_fails() {
    for spec in [AsymmetricSpec::EccNistP256, AsymmetricSpec::EccNistP384] {
        let alg = spec.signing_algorithms()[0];
        let (private, public) = key(spec);
        let a = sign(spec, private.expose(), alg, MESSAGE, MessageType::Raw).unwrap();
        let b = sign(spec, private.expose(), alg, MESSAGE, MessageType::Raw).unwrap();
        assert_ne!(a, b, "hedged nonces");
        let (_, other_public) = generate_pair(spec).unwrap();
        assert_ne!(&other_public, public);
        assert!(!verify(spec, &other_public, alg, MESSAGE, MessageType::Raw, &a).unwrap());
    }
}

#[test]
fn rsa_signature_under_another_key_fails() {
    let spec = AsymmetricSpec::Rsa2048;
    let (private, _) = key(spec);
    let (_, other_public) = other_rsa_2048();
    for &alg in spec.signing_algorithms() {
        let signature = sign(spec, private.expose(), alg, MESSAGE, MessageType::Raw).unwrap();
        assert!(!verify(spec, other_public, alg, MESSAGE, MessageType::Raw, &signature).unwrap());
    }
}

#[test]
fn message_and_digest_lengths() {
    let spec = AsymmetricSpec::EccNistP256;
    let alg = SigningAlgorithm::EcdsaSha256;
    let (private, public) = key(spec);
    let private = private.expose();

    let max = vec![b'm'; MAX_MESSAGE_LEN];
    let signature = sign(spec, private, alg, &max, MessageType::Raw).unwrap();
    assert!(verify(spec, public, alg, &max, MessageType::Raw, &signature).unwrap());
    assert!(sign(spec, private, alg, b"m", MessageType::Raw).is_ok());

    let over = vec![b'm'; MAX_MESSAGE_LEN + 1];
    assert!(matches!(
        sign(spec, private, alg, &over, MessageType::Raw),
        Err(AsymmetricError::MessageTooLong { len }) if len == MAX_MESSAGE_LEN + 1
    ));
    assert!(matches!(
        verify(spec, public, alg, &over, MessageType::Raw, &signature),
        Err(AsymmetricError::MessageTooLong { .. })
    ));
    assert!(matches!(
        sign(spec, private, alg, b"", MessageType::Raw),
        Err(AsymmetricError::EmptyMessage)
    ));
    assert!(matches!(
        verify(spec, public, alg, b"", MessageType::Raw, &signature),
        Err(AsymmetricError::EmptyMessage)
    ));

    for spec in AsymmetricSpec::ALL {
        for &alg in spec.signing_algorithms() {
            let n = alg.digest_len();
            for len in [0, n - 1, n + 1, MAX_MESSAGE_LEN] {
                let digest = vec![7; len];
                // The length is checked before the key is parsed: no key needed.
                let err = sign(spec, b"", alg, &digest, MessageType::Digest).unwrap_err();
                assert!(
                    matches!(err, AsymmetricError::DigestLength { expected, actual, .. }
                        if expected == n && actual == len),
                    "{err}"
                );
                let err = verify(spec, b"", alg, &digest, MessageType::Digest, b"sig").unwrap_err();
                assert!(matches!(err, AsymmetricError::DigestLength { .. }), "{err}");
            }
        }
    }
}

#[test]
fn algorithms_of_other_specs_are_refused() {
    for spec in AsymmetricSpec::ALL {
        for alg in SigningAlgorithm::ALL {
            if spec.signing_algorithms().contains(&alg) {
                continue;
            }
            let digest = vec![0; alg.digest_len()];
            for kind in [MessageType::Raw, MessageType::Digest] {
                let message = if kind == MessageType::Raw { MESSAGE } else { &digest };
                let err = sign(spec, key(spec).0.expose(), alg, message, kind).unwrap_err();
                assert!(
                    matches!(err, AsymmetricError::SigningAlgorithmMismatch { .. }),
                    "{spec} {alg}: {err}"
                );
                let err = verify(spec, &key(spec).1, alg, message, kind, b"sig").unwrap_err();
                assert!(
                    matches!(err, AsymmetricError::SigningAlgorithmMismatch { .. }),
                    "{spec} {alg}: {err}"
                );
            }
        }
    }
    for spec in [AsymmetricSpec::EccNistP256, AsymmetricSpec::EccNistP384] {
        for alg in [EncryptionAlgorithm::RsaesOaepSha1, EncryptionAlgorithm::RsaesOaepSha256] {
            let (private, public) = key(spec);
            let err = encrypt(spec, public, alg, b"plaintext").unwrap_err();
            assert!(matches!(err, AsymmetricError::EncryptionAlgorithmMismatch { .. }));
            let err = decrypt(spec, private.expose(), alg, &[0; 64]).unwrap_err();
            assert!(matches!(err, AsymmetricError::EncryptionAlgorithmMismatch { .. }));
        }
    }
}

#[test]
fn keys_of_another_spec_or_malformed_are_refused() {
    use AsymmetricSpec::*;
    let cases = [
        (Rsa2048, Rsa3072),
        (Rsa2048, Rsa4096),
        (Rsa2048, EccNistP256),
        (EccNistP256, EccNistP384),
        (EccNistP384, EccNistP256),
        (EccNistP256, Rsa2048),
    ];
    for (actual, claimed) in cases {
        let (private, public) = key(actual);
        let alg = claimed.signing_algorithms()[0];
        let err = sign(claimed, private.expose(), alg, MESSAGE, MessageType::Raw).unwrap_err();
        assert!(matches!(err, AsymmetricError::InvalidPrivateKey { .. }), "{err}");
        let err = verify(claimed, public, alg, MESSAGE, MessageType::Raw, b"sig").unwrap_err();
        assert!(matches!(err, AsymmetricError::InvalidPublicKey { .. }), "{err}");
        let err = public_key_der(claimed, private.expose()).unwrap_err();
        assert!(matches!(err, AsymmetricError::InvalidPrivateKey { .. }), "{err}");
        if let Some(&enc) = claimed.encryption_algorithms().first() {
            let err = encrypt(claimed, public, enc, b"plaintext").unwrap_err();
            assert!(matches!(err, AsymmetricError::InvalidPublicKey { .. }), "{err}");
            let err = decrypt(claimed, private.expose(), enc, &[1; 384]).unwrap_err();
            assert!(matches!(err, AsymmetricError::InvalidPrivateKey { .. }), "{err}");
        }
    }
    for spec in AsymmetricSpec::ALL {
        let alg = spec.signing_algorithms()[0];
        for garbage in [&b""[..], b"\x30\x03\x02\x01\x00", &[0xff; 300]] {
            assert!(matches!(
                sign(spec, garbage, alg, MESSAGE, MessageType::Raw),
                Err(AsymmetricError::InvalidPrivateKey { .. })
            ));
            assert!(matches!(
                verify(spec, garbage, alg, MESSAGE, MessageType::Raw, b"sig"),
                Err(AsymmetricError::InvalidPublicKey { .. })
            ));
            assert!(public_key_der(spec, garbage).is_err());
        }
        // A private key is not a public key and vice versa.
        let (private, public) = key(spec);
        assert!(verify(spec, private.expose(), alg, MESSAGE, MessageType::Raw, b"s").is_err());
        assert!(sign(spec, public, alg, MESSAGE, MessageType::Raw).is_err());
    }
}

#[test]
fn generated_pairs_parse_back() {
    let rsa_encryption = spki::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    let ec_public_key = spki::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    let secp256r1 = spki::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    let secp384r1 = spki::ObjectIdentifier::new_unwrap("1.3.132.0.34");
    for spec in AsymmetricSpec::ALL {
        let (private, public) = key(spec);
        assert_eq!(&public_key_der(spec, private.expose()).unwrap(), public);
        let spki = spki::SubjectPublicKeyInfoRef::try_from(public.as_slice()).unwrap();
        let point = spki.subject_public_key.raw_bytes();
        match spec {
            AsymmetricSpec::Rsa2048 | AsymmetricSpec::Rsa3072 | AsymmetricSpec::Rsa4096 => {
                assert_eq!(spki.algorithm.oid, rsa_encryption);
                let key = RsaPrivateKey::from_pkcs8_der(private.expose()).unwrap();
                assert_eq!(Some(key.size() * 8), spec.rsa_bits());
                assert_eq!(key.e(), &rsa::BigUint::from(65537u32));
                let public = RsaPublicKey::from_public_key_der(public).unwrap();
                assert_eq!(public, key.to_public_key());
            }
            AsymmetricSpec::EccNistP256 => {
                assert_eq!(spki.algorithm.oid, ec_public_key);
                assert_eq!(spki.algorithm.parameters_oid().unwrap(), secp256r1);
                assert_eq!((point.len(), point.first()), (65, Some(&0x04)));
                let key = p256::SecretKey::from_pkcs8_der(private.expose()).unwrap();
                assert_eq!(key.public_key(), p256::PublicKey::from_public_key_der(public).unwrap());
            }
            AsymmetricSpec::EccNistP384 => {
                assert_eq!(spki.algorithm.oid, ec_public_key);
                assert_eq!(spki.algorithm.parameters_oid().unwrap(), secp384r1);
                assert_eq!((point.len(), point.first()), (97, Some(&0x04)));
                let key = p384::SecretKey::from_pkcs8_der(private.expose()).unwrap();
                assert_eq!(key.public_key(), p384::PublicKey::from_public_key_der(public).unwrap());
            }
        }
    }
    let (a, b) = (key(AsymmetricSpec::Rsa2048), other_rsa_2048());
    assert_ne!(a.0, b.0);
    assert_ne!(a.1, b.1);
    let (c, d) =
        (generate_pair(AsymmetricSpec::EccNistP256).unwrap(), key(AsymmetricSpec::EccNistP256));
    assert_ne!(c.0, d.0);
}

#[test]
fn max_plaintext_is_aws_table() {
    use AsymmetricSpec::*;
    use EncryptionAlgorithm::*;
    let table = [
        (Rsa2048, RsaesOaepSha1, 214),
        (Rsa2048, RsaesOaepSha256, 190),
        (Rsa3072, RsaesOaepSha1, 342),
        (Rsa3072, RsaesOaepSha256, 318),
        (Rsa4096, RsaesOaepSha1, 470),
        (Rsa4096, RsaesOaepSha256, 446),
    ];
    for (spec, alg, max) in table {
        assert_eq!(max_plaintext(spec, alg), Some(max), "{spec} {alg}");
    }
    for spec in [EccNistP256, EccNistP384] {
        assert_eq!(max_plaintext(spec, RsaesOaepSha1), None);
        assert_eq!(max_plaintext(spec, RsaesOaepSha256), None);
    }
}

fn check_oaep(spec: AsymmetricSpec) {
    let (private, public) = key(spec);
    let private = private.expose();
    let modulus_len = spec.rsa_bits().unwrap() / 8;
    for &alg in spec.encryption_algorithms() {
        let max = max_plaintext(spec, alg).unwrap();
        let plaintext: Vec<u8> = (0..max).map(|i| i as u8).collect();
        let ciphertext = encrypt(spec, public, alg, &plaintext).unwrap();
        assert_eq!(ciphertext.len(), modulus_len);
        assert_eq!(decrypt(spec, private, alg, &ciphertext).unwrap().expose(), plaintext);
        let one = encrypt(spec, public, alg, b"x").unwrap();
        assert_ne!(one, encrypt(spec, public, alg, b"x").unwrap(), "randomized");
        assert_eq!(decrypt(spec, private, alg, &one).unwrap().expose(), b"x");

        let over = vec![0; max + 1];
        assert!(matches!(
            encrypt(spec, public, alg, &over),
            Err(AsymmetricError::PlaintextTooLong { len, max: m, .. }) if len == max + 1 && m == max
        ));
        assert!(matches!(encrypt(spec, public, alg, b""), Err(AsymmetricError::EmptyPlaintext)));

        // The other OAEP hash, a flipped bit, and malformed ciphertexts all fail alike.
        let other = if alg == EncryptionAlgorithm::RsaesOaepSha1 {
            EncryptionAlgorithm::RsaesOaepSha256
        } else {
            EncryptionAlgorithm::RsaesOaepSha1
        };
        let mut flipped = one.clone();
        flipped[modulus_len / 2] ^= 0x04;
        let mut longer = one.clone();
        longer.push(0);
        let bad: [(&str, &[u8], EncryptionAlgorithm); 7] = [
            ("other hash", &one, other),
            ("flipped bit", &flipped, alg),
            ("empty", b"", alg),
            ("short", &one[1..], alg),
            ("long", &longer, alg),
            ("not below the modulus", &vec![0xff; modulus_len], alg),
            ("zero", &vec![0; modulus_len], alg),
        ];
        for (what, ciphertext, alg) in bad {
            assert!(
                matches!(decrypt(spec, private, alg, ciphertext), Err(AsymmetricError::Decryption)),
                "{spec} {alg}: {what}"
            );
        }
    }
}

#[test]
fn oaep_rsa_2048() {
    check_oaep(AsymmetricSpec::Rsa2048);
}

#[test]
fn oaep_rsa_3072() {
    check_oaep(AsymmetricSpec::Rsa3072);
}

#[test]
fn oaep_rsa_4096() {
    check_oaep(AsymmetricSpec::Rsa4096);
}

#[test]
fn oaep_with_another_key_fails() {
    let spec = AsymmetricSpec::Rsa2048;
    let (_, public) = key(spec);
    let (other_private, _) = other_rsa_2048();
    for &alg in spec.encryption_algorithms() {
        let ciphertext = encrypt(spec, public, alg, b"for the first key").unwrap();
        assert!(matches!(
            decrypt(spec, other_private.expose(), alg, &ciphertext),
            Err(AsymmetricError::Decryption)
        ));
    }
}

#[test]
fn names_round_trip() {
    for spec in AsymmetricSpec::ALL {
        assert_eq!(AsymmetricSpec::parse(spec.as_str()), Some(spec));
        assert_eq!(spec.to_string(), spec.as_str());
        assert_eq!(spec.is_rsa(), spec.as_str().starts_with("RSA_"));
        assert_eq!(spec.is_rsa(), !spec.encryption_algorithms().is_empty());
    }
    for alg in SigningAlgorithm::ALL {
        assert_eq!(SigningAlgorithm::parse(alg.as_str()), Some(alg));
    }
    for alg in [EncryptionAlgorithm::RsaesOaepSha1, EncryptionAlgorithm::RsaesOaepSha256] {
        assert_eq!(EncryptionAlgorithm::parse(alg.as_str()), Some(alg));
    }
    for kind in [MessageType::Raw, MessageType::Digest] {
        assert_eq!(MessageType::parse(kind.as_str()), Some(kind));
    }
    for unknown in ["", "RSA_1024", "ECC_NIST_P521", "ECC_SECG_P256K1", "rsa_2048", "SM2"] {
        assert_eq!(AsymmetricSpec::parse(unknown), None, "{unknown}");
    }
    assert_eq!(SigningAlgorithm::parse("ECDSA_SHA_512"), None);
    assert_eq!(SigningAlgorithm::parse("RSASSA_PSS_SHA256"), None);
    assert_eq!(EncryptionAlgorithm::parse("SYMMETRIC_DEFAULT"), None);
    assert_eq!(MessageType::parse("raw"), None);

    assert_eq!(
        SigningAlgorithm::parse("RSASSA_PKCS1_V1_5_SHA_384"),
        Some(SigningAlgorithm::RsassaPkcs1V15Sha384)
    );
    assert_eq!(AsymmetricSpec::EccNistP256.signing_algorithms(), [SigningAlgorithm::EcdsaSha256]);
    assert_eq!(AsymmetricSpec::EccNistP384.signing_algorithms(), [SigningAlgorithm::EcdsaSha384]);
    assert_eq!(AsymmetricSpec::Rsa3072.signing_algorithms().len(), 6);
    let lens: Vec<usize> = SigningAlgorithm::ALL.iter().map(|a| a.digest_len()).collect();
    assert_eq!(lens, [32, 48, 64, 32, 48, 64, 32, 48]);
}

#[test]
fn error_messages_name_no_secrets() {
    let err = sign(
        AsymmetricSpec::EccNistP256,
        b"secret key bytes",
        SigningAlgorithm::RsassaPssSha256,
        b"secret message",
        MessageType::Raw,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "signing algorithm `RSASSA_PSS_SHA_256` is not valid for key spec `ECC_NIST_P256`"
    );
    let err = sign(
        AsymmetricSpec::EccNistP256,
        b"secret key bytes",
        SigningAlgorithm::EcdsaSha256,
        b"secret message",
        MessageType::Raw,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "private key is malformed or not a `ECC_NIST_P256` key");
    let err =
        encrypt(AsymmetricSpec::Rsa2048, b"", EncryptionAlgorithm::RsaesOaepSha256, &[b's'; 191])
            .unwrap_err();
    assert_eq!(
        err.to_string(),
        "plaintext is 191 bytes, longer than the limit of 190 for `RSAES_OAEP_SHA_256` with key spec `RSA_2048`"
    );
    let (private, _) = key(AsymmetricSpec::Rsa2048);
    let err = decrypt(
        AsymmetricSpec::Rsa2048,
        private.expose(),
        EncryptionAlgorithm::RsaesOaepSha1,
        b"secret ciphertext",
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "ciphertext could not be decrypted");
}

#[test]
fn decrypts_openssl_oaep_known_answers() {
    let spec = AsymmetricSpec::Rsa2048;
    let (private, _) = other_rsa_2048();
    for (alg, ciphertext) in [
        (EncryptionAlgorithm::RsaesOaepSha1, OPENSSL_OAEP_SHA_1),
        (EncryptionAlgorithm::RsaesOaepSha256, OPENSSL_OAEP_SHA_256),
    ] {
        let ciphertext = hex(ciphertext.trim());
        let plaintext = decrypt(spec, private.expose(), alg, &ciphertext).unwrap();
        assert_eq!(plaintext.expose(), b"Hermetic OAEP known answer", "{alg}");
    }
}

#[test]
fn ecdh_agrees_both_ways_and_refuses_another_curve() {
    for spec in [AsymmetricSpec::EccNistP256, AsymmetricSpec::EccNistP384] {
        let (a, a_pub) = generate_pair(spec).unwrap();
        let (b, b_pub) = generate_pair(spec).unwrap();
        let ab = ecdh(spec, a.expose(), &b_pub).unwrap();
        let ba = ecdh(spec, b.expose(), &a_pub).unwrap();
        assert_eq!(ab.expose(), ba.expose());
        assert_eq!(ab.expose().len(), if spec == AsymmetricSpec::EccNistP256 { 32 } else { 48 });
    }
    let (p256, _) = generate_pair(AsymmetricSpec::EccNistP256).unwrap();
    let (_, p384_pub) = generate_pair(AsymmetricSpec::EccNistP384).unwrap();
    assert!(ecdh(AsymmetricSpec::EccNistP256, p256.expose(), &p384_pub).is_err());
    assert!(ecdh(AsymmetricSpec::EccNistP256, p256.expose(), b"not a key").is_err());
}
