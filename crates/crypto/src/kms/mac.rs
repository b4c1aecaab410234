//! HMAC KMS keys: generation, GenerateMac, VerifyMac.
//!
//! A KMS HMAC key has a key spec (`HMAC_224` … `HMAC_512`) that admits exactly one MAC algorithm
//! (`HMAC_SHA_224` … `HMAC_SHA_512`); the key is as long as the hash's output, as in AWS KMS.
//! Messages are 1 to 4096 bytes. Verification compares in constant time.

use crate::secret::SecretBytes;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::{Sha224, Sha256, Sha384, Sha512};
use std::fmt;
use subtle::ConstantTimeEq;

/// The longest message GenerateMac and VerifyMac accept, in bytes (AWS's limit).
pub const MAX_MESSAGE_LEN: usize = 4096;

/// The key spec of a KMS HMAC key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacSpec {
    /// `HMAC_224`: a 224-bit key for HMAC-SHA-224.
    Hmac224,
    /// `HMAC_256`: a 256-bit key for HMAC-SHA-256.
    Hmac256,
    /// `HMAC_384`: a 384-bit key for HMAC-SHA-384.
    Hmac384,
    /// `HMAC_512`: a 512-bit key for HMAC-SHA-512.
    Hmac512,
}

impl MacSpec {
    /// Parses an AWS key spec name (`HMAC_224`, `HMAC_256`, `HMAC_384`, `HMAC_512`).
    pub fn parse(s: &str) -> Option<MacSpec> {
        match s {
            "HMAC_224" => Some(MacSpec::Hmac224),
            "HMAC_256" => Some(MacSpec::Hmac256),
            "HMAC_384" => Some(MacSpec::Hmac384),
            "HMAC_512" => Some(MacSpec::Hmac512),
            _ => None,
        }
    }

    /// The AWS key spec name.
    pub fn as_str(self) -> &'static str {
        match self {
            MacSpec::Hmac224 => "HMAC_224",
            MacSpec::Hmac256 => "HMAC_256",
            MacSpec::Hmac384 => "HMAC_384",
            MacSpec::Hmac512 => "HMAC_512",
        }
    }

    /// The one MAC algorithm a key of this spec may be used with.
    pub fn algorithm(self) -> MacAlgorithm {
        match self {
            MacSpec::Hmac224 => MacAlgorithm::HmacSha224,
            MacSpec::Hmac256 => MacAlgorithm::HmacSha256,
            MacSpec::Hmac384 => MacAlgorithm::HmacSha384,
            MacSpec::Hmac512 => MacAlgorithm::HmacSha512,
        }
    }

    /// The length of a generated key in bytes: the hash's output length.
    pub fn key_len(self) -> usize {
        self.algorithm().output_len()
    }
}

impl fmt::Display for MacSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A KMS MAC algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacAlgorithm {
    /// `HMAC_SHA_224`.
    HmacSha224,
    /// `HMAC_SHA_256`.
    HmacSha256,
    /// `HMAC_SHA_384`.
    HmacSha384,
    /// `HMAC_SHA_512`.
    HmacSha512,
}

impl MacAlgorithm {
    /// Parses an AWS MAC algorithm name (`HMAC_SHA_224` … `HMAC_SHA_512`).
    pub fn parse(s: &str) -> Option<MacAlgorithm> {
        match s {
            "HMAC_SHA_224" => Some(MacAlgorithm::HmacSha224),
            "HMAC_SHA_256" => Some(MacAlgorithm::HmacSha256),
            "HMAC_SHA_384" => Some(MacAlgorithm::HmacSha384),
            "HMAC_SHA_512" => Some(MacAlgorithm::HmacSha512),
            _ => None,
        }
    }

    /// The AWS MAC algorithm name.
    pub fn as_str(self) -> &'static str {
        match self {
            MacAlgorithm::HmacSha224 => "HMAC_SHA_224",
            MacAlgorithm::HmacSha256 => "HMAC_SHA_256",
            MacAlgorithm::HmacSha384 => "HMAC_SHA_384",
            MacAlgorithm::HmacSha512 => "HMAC_SHA_512",
        }
    }

    /// The length of a MAC in bytes (the hash's output length).
    pub fn output_len(self) -> usize {
        match self {
            MacAlgorithm::HmacSha224 => 28,
            MacAlgorithm::HmacSha256 => 32,
            MacAlgorithm::HmacSha384 => 48,
            MacAlgorithm::HmacSha512 => 64,
        }
    }
}

impl fmt::Display for MacAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a MAC could not be computed or checked. Messages never contain key material or message
/// bytes.
#[derive(Debug, thiserror::Error)]
pub enum MacError {
    /// The algorithm is not the one the key spec admits.
    #[error("mac algorithm `{algorithm}` is not valid for key spec `{spec}`")]
    AlgorithmMismatch {
        /// The requested algorithm.
        algorithm: MacAlgorithm,
        /// The key's spec.
        spec: MacSpec,
    },
    /// The message is empty.
    #[error("message must not be empty")]
    EmptyMessage,
    /// The message is longer than [`MAX_MESSAGE_LEN`].
    #[error("message is {len} bytes, longer than the limit of {MAX_MESSAGE_LEN}")]
    MessageTooLong {
        /// The message's length.
        len: usize,
    },
    /// The key could not be used (never happens for HMAC, which takes keys of any length).
    #[error("mac key is unusable")]
    InvalidKey,
}

/// Generates a new HMAC key for `spec` from the operating system's random number generator.
pub fn generate(spec: MacSpec) -> SecretBytes {
    let mut key = vec![0u8; spec.key_len()];
    OsRng.fill_bytes(&mut key);
    SecretBytes::new(key)
}

/// Computes the MAC of `message` under `key` (GenerateMac).
///
/// `alg` must be the algorithm of `spec`, and `message` must be 1 to [`MAX_MESSAGE_LEN`] bytes.
pub fn mac(
    spec: MacSpec,
    key: &[u8],
    alg: MacAlgorithm,
    message: &[u8],
) -> Result<Vec<u8>, MacError> {
    check(spec, alg, message)?;
    match alg {
        MacAlgorithm::HmacSha224 => compute::<Hmac<Sha224>>(key, message),
        MacAlgorithm::HmacSha256 => compute::<Hmac<Sha256>>(key, message),
        MacAlgorithm::HmacSha384 => compute::<Hmac<Sha384>>(key, message),
        MacAlgorithm::HmacSha512 => compute::<Hmac<Sha512>>(key, message),
    }
}

/// Checks `mac` against the MAC of `message` under `key` (VerifyMac), in constant time.
///
/// Returns `Ok(false)` for a MAC that does not match (including one of the wrong length) and an
/// error for a request that [`mac`] would refuse.
pub fn verify(
    spec: MacSpec,
    key: &[u8],
    alg: MacAlgorithm,
    message: &[u8],
    mac: &[u8],
) -> Result<bool, MacError> {
    let expected = self::mac(spec, key, alg, message)?;
    Ok(expected.as_slice().ct_eq(mac).into())
}

/// Refuses an algorithm that is not the spec's and a message of the wrong length.
fn check(spec: MacSpec, alg: MacAlgorithm, message: &[u8]) -> Result<(), MacError> {
    if spec.algorithm() != alg {
        return Err(MacError::AlgorithmMismatch { algorithm: alg, spec });
    }
    if message.is_empty() {
        return Err(MacError::EmptyMessage);
    }
    if message.len() > MAX_MESSAGE_LEN {
        return Err(MacError::MessageTooLong { len: message.len() });
    }
    Ok(())
}

fn compute<M: Mac + hmac::digest::KeyInit>(
    key: &[u8],
    message: &[u8],
) -> Result<Vec<u8>, MacError> {
    let mut m = <M as Mac>::new_from_slice(key).map_err(|_| MacError::InvalidKey)?;
    m.update(message);
    Ok(m.finalize().into_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: [MacSpec; 4] =
        [MacSpec::Hmac224, MacSpec::Hmac256, MacSpec::Hmac384, MacSpec::Hmac512];

    fn hex(s: &str) -> Vec<u8> {
        assert!(s.len().is_multiple_of(2), "odd hex length");
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// One RFC 4231 test case: key, data, and the HMAC-SHA-224/256/384/512 outputs.
    struct Case {
        name: &'static str,
        key: Vec<u8>,
        data: Vec<u8>,
        macs: [&'static str; 4],
    }

    fn rfc4231() -> Vec<Case> {
        vec![
            Case {
                name: "4.2 test case 1",
                key: vec![0x0b; 20],
                data: b"Hi There".to_vec(),
                macs: [
                    "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22",
                    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                    "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c\
                     faea9ea9076ede7f4af152e8b2fa9cb6",
                    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde\
                     daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
                ],
            },
            Case {
                name: "4.3 test case 2",
                key: b"Jefe".to_vec(),
                data: b"what do ya want for nothing?".to_vec(),
                macs: [
                    "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e\
                     8e2240ca5e69e2c78b3239ecfab21649",
                    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                     9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
                ],
            },
            Case {
                name: "4.4 test case 3",
                key: vec![0xaa; 20],
                data: vec![0xdd; 50],
                macs: [
                    "7fb3cb3588c6c1f6ffa9694d7d6ad2649365b0c1f65d69d1ec8333ea",
                    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
                    "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b\
                     2a5ab39dc13814b94e3ab6e101a34f27",
                    "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39\
                     bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
                ],
            },
            Case {
                name: "4.5 test case 4",
                key: (0x01..=0x19).collect(),
                data: vec![0xcd; 50],
                macs: [
                    "6c11506874013cac6a2abc1bb382627cec6a90d86efc012de7afec5a",
                    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
                    "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e\
                     6801dd23c4a7d679ccf8a386c674cffb",
                    "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db\
                     a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
                ],
            },
            Case {
                name: "4.7 test case 6",
                key: vec![0xaa; 131],
                data: b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                macs: [
                    "95e9a0db962095adaebe9b2d6f0dbce2d499f112f2d2b7273fa6870e",
                    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                    "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6\
                     0c2ef6ab4030fe8296248df163f44952",
                    "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352\
                     6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
                ],
            },
            Case {
                name: "4.8 test case 7",
                key: vec![0xaa; 131],
                data: b"This is a test using a larger than block-size key and a larger \
                        than block-size data. The key needs to be hashed before being \
                        used by the HMAC algorithm."
                    .to_vec(),
                macs: [
                    "3a854166ac5d9f023f54d517d0b39dbd946770db9c2b95c9f6f565d1",
                    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
                    "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5\
                     a678cc31e799176d3860e6110c46523e",
                    "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944\
                     b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
                ],
            },
        ]
    }

    #[test]
    fn rfc4231_vectors() {
        for case in rfc4231() {
            for (spec, expected) in SPECS.iter().zip(case.macs) {
                let expected = hex(expected);
                assert_eq!(expected.len(), spec.algorithm().output_len());
                let got = mac(*spec, &case.key, spec.algorithm(), &case.data).unwrap();
                assert_eq!(got, expected, "{} {}", case.name, spec.as_str());
                assert!(
                    verify(*spec, &case.key, spec.algorithm(), &case.data, &expected).unwrap(),
                    "{} {}",
                    case.name,
                    spec.as_str()
                );
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for spec in SPECS {
            assert_eq!(MacSpec::parse(spec.as_str()), Some(spec));
            assert_eq!(spec.to_string(), spec.as_str());
            let alg = spec.algorithm();
            assert_eq!(MacAlgorithm::parse(alg.as_str()), Some(alg));
        }
        assert_eq!(MacSpec::parse("HMAC_SHA_256"), None);
        assert_eq!(MacAlgorithm::parse("HMAC_256"), None);
        assert_eq!(MacSpec::parse("hmac_256"), None);
    }

    #[test]
    fn generated_keys_have_the_hash_length_and_differ() {
        for (spec, len) in SPECS.into_iter().zip([28, 32, 48, 64]) {
            let a = generate(spec);
            let b = generate(spec);
            assert_eq!(a.len(), len);
            assert_eq!(b.len(), len);
            assert_ne!(a, b);
            let tag = mac(spec, a.expose(), spec.algorithm(), b"message").unwrap();
            assert_eq!(tag.len(), len);
        }
    }

    #[test]
    fn wrong_algorithm_for_spec_is_refused() {
        for spec in SPECS {
            for other in SPECS {
                let alg = other.algorithm();
                if alg == spec.algorithm() {
                    continue;
                }
                let err = mac(spec, b"key", alg, b"message").unwrap_err();
                assert!(matches!(err, MacError::AlgorithmMismatch { .. }), "{err}");
                let err = verify(spec, b"key", alg, b"message", &[0; 32]).unwrap_err();
                assert!(matches!(err, MacError::AlgorithmMismatch { .. }), "{err}");
            }
        }
    }

    #[test]
    fn verify_detects_changes() {
        for spec in SPECS {
            let key = generate(spec);
            let alg = spec.algorithm();
            let tag = mac(spec, key.expose(), alg, b"message").unwrap();
            assert!(verify(spec, key.expose(), alg, b"message", &tag).unwrap());
            // A flipped bit anywhere in the MAC.
            for i in 0..tag.len() {
                let mut bad = tag.clone();
                bad[i] ^= 0x01;
                assert!(!verify(spec, key.expose(), alg, b"message", &bad).unwrap());
            }
            // A truncated, extended or empty MAC.
            assert!(!verify(spec, key.expose(), alg, b"message", &tag[..tag.len() - 1]).unwrap());
            let mut longer = tag.clone();
            longer.push(0);
            assert!(!verify(spec, key.expose(), alg, b"message", &longer).unwrap());
            assert!(!verify(spec, key.expose(), alg, b"message", &[]).unwrap());
            // Another message or another key.
            assert!(!verify(spec, key.expose(), alg, b"messagf", &tag).unwrap());
            let other = generate(spec);
            assert!(!verify(spec, other.expose(), alg, b"message", &tag).unwrap());
        }
    }

    #[test]
    fn message_length_limits() {
        let spec = MacSpec::Hmac256;
        let alg = spec.algorithm();
        let key = generate(spec);
        assert!(matches!(mac(spec, key.expose(), alg, b"").unwrap_err(), MacError::EmptyMessage));
        assert!(matches!(
            verify(spec, key.expose(), alg, b"", &[0; 32]).unwrap_err(),
            MacError::EmptyMessage
        ));
        assert!(mac(spec, key.expose(), alg, &[7; 1]).is_ok());
        let max = vec![7; MAX_MESSAGE_LEN];
        let tag = mac(spec, key.expose(), alg, &max).unwrap();
        assert!(verify(spec, key.expose(), alg, &max, &tag).unwrap());
        let over = vec![7; MAX_MESSAGE_LEN + 1];
        assert!(matches!(
            mac(spec, key.expose(), alg, &over).unwrap_err(),
            MacError::MessageTooLong { len } if len == MAX_MESSAGE_LEN + 1
        ));
        assert!(matches!(
            verify(spec, key.expose(), alg, &over, &tag).unwrap_err(),
            MacError::MessageTooLong { .. }
        ));
    }

    #[test]
    fn error_messages_hold_no_key_or_message() {
        let err = mac(MacSpec::Hmac256, b"sekrit-key", MacAlgorithm::HmacSha512, b"sekrit-msg")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "mac algorithm `HMAC_SHA_512` is not valid for key spec `HMAC_256`");
        let err = mac(MacSpec::Hmac256, b"sekrit-key", MacAlgorithm::HmacSha256, &[b's'; 5000])
            .unwrap_err()
            .to_string();
        assert_eq!(err, "message is 5000 bytes, longer than the limit of 4096");
    }
}
