//! Asymmetric KMS keys (RSA, ECC NIST): generation, public keys, signing, RSA-OAEP.
//!
//! Keys travel as DER: private keys as PKCS#8 `PrivateKeyInfo` (what GenerateDataKeyPair
//! returns), public keys as X.509 `SubjectPublicKeyInfo` (what GetPublicKey returns). The rules
//! are AWS KMS's:
//!
//! - a signing or encryption algorithm must belong to the key spec (RSA keys: the six RSASSA
//!   algorithms and the two RSAES-OAEP ones; `ECC_NIST_P256`: `ECDSA_SHA_256` only;
//!   `ECC_NIST_P384`: `ECDSA_SHA_384` only);
//! - a [`MessageType::Raw`] message is 1 to 4096 bytes and is hashed with the algorithm's hash;
//!   a [`MessageType::Digest`] message is exactly that hash's length and is signed as is;
//! - RSASSA-PSS uses MGF1 with the signature's hash and a salt as long as the hash;
//! - ECDSA signatures are DER-encoded `Ecdsa-Sig-Value`s;
//! - RSAES-OAEP uses MGF1 with the OAEP hash and an empty label, and refuses plaintexts longer
//!   than [`max_plaintext`].
//!
//! Private-key operations use fresh randomness: RSA blinding, PSS salts, and ECDSA nonces
//! derived by RFC 6979 with added entropy.

use crate::secret::SecretBytes;
use pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rand_core::OsRng;
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::{DecodePublicKey, EncodePublicKey};
use std::fmt;

/// The longest [`MessageType::Raw`] message Sign and Verify accept, in bytes (AWS's limit).
pub const MAX_MESSAGE_LEN: usize = 4096;

/// The key spec of an asymmetric KMS key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsymmetricSpec {
    /// `RSA_2048`.
    Rsa2048,
    /// `RSA_3072`.
    Rsa3072,
    /// `RSA_4096`.
    Rsa4096,
    /// `ECC_NIST_P256` (secp256r1).
    EccNistP256,
    /// `ECC_NIST_P384` (secp384r1).
    EccNistP384,
}

impl AsymmetricSpec {
    /// Every spec, in AWS's order.
    pub const ALL: [AsymmetricSpec; 5] = [
        AsymmetricSpec::Rsa2048,
        AsymmetricSpec::Rsa3072,
        AsymmetricSpec::Rsa4096,
        AsymmetricSpec::EccNistP256,
        AsymmetricSpec::EccNistP384,
    ];

    /// Parses an AWS key spec name (`RSA_2048`, …, `ECC_NIST_P384`).
    pub fn parse(s: &str) -> Option<AsymmetricSpec> {
        AsymmetricSpec::ALL.into_iter().find(|spec| spec.as_str() == s)
    }

    /// The AWS key spec name.
    pub fn as_str(self) -> &'static str {
        match self {
            AsymmetricSpec::Rsa2048 => "RSA_2048",
            AsymmetricSpec::Rsa3072 => "RSA_3072",
            AsymmetricSpec::Rsa4096 => "RSA_4096",
            AsymmetricSpec::EccNistP256 => "ECC_NIST_P256",
            AsymmetricSpec::EccNistP384 => "ECC_NIST_P384",
        }
    }

    /// Whether this is an RSA spec.
    pub fn is_rsa(self) -> bool {
        self.rsa_bits().is_some()
    }

    /// The modulus size in bits of an RSA spec; `None` for ECC.
    pub fn rsa_bits(self) -> Option<usize> {
        match self {
            AsymmetricSpec::Rsa2048 => Some(2048),
            AsymmetricSpec::Rsa3072 => Some(3072),
            AsymmetricSpec::Rsa4096 => Some(4096),
            AsymmetricSpec::EccNistP256 | AsymmetricSpec::EccNistP384 => None,
        }
    }

    /// The signing algorithms a key of this spec may be used with, in the order GetPublicKey
    /// lists them.
    pub fn signing_algorithms(self) -> &'static [SigningAlgorithm] {
        const RSA: &[SigningAlgorithm] = &[
            SigningAlgorithm::RsassaPkcs1V15Sha256,
            SigningAlgorithm::RsassaPkcs1V15Sha384,
            SigningAlgorithm::RsassaPkcs1V15Sha512,
            SigningAlgorithm::RsassaPssSha256,
            SigningAlgorithm::RsassaPssSha384,
            SigningAlgorithm::RsassaPssSha512,
        ];
        match self {
            AsymmetricSpec::Rsa2048 | AsymmetricSpec::Rsa3072 | AsymmetricSpec::Rsa4096 => RSA,
            AsymmetricSpec::EccNistP256 => &[SigningAlgorithm::EcdsaSha256],
            AsymmetricSpec::EccNistP384 => &[SigningAlgorithm::EcdsaSha384],
        }
    }

    /// The encryption algorithms a key of this spec may be used with: both RSAES-OAEP
    /// algorithms for RSA, none for ECC.
    pub fn encryption_algorithms(self) -> &'static [EncryptionAlgorithm] {
        if self.is_rsa() {
            &[EncryptionAlgorithm::RsaesOaepSha1, EncryptionAlgorithm::RsaesOaepSha256]
        } else {
            &[]
        }
    }
}

impl fmt::Display for AsymmetricSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A KMS signing algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// `RSASSA_PSS_SHA_256`.
    RsassaPssSha256,
    /// `RSASSA_PSS_SHA_384`.
    RsassaPssSha384,
    /// `RSASSA_PSS_SHA_512`.
    RsassaPssSha512,
    /// `RSASSA_PKCS1_V1_5_SHA_256`.
    RsassaPkcs1V15Sha256,
    /// `RSASSA_PKCS1_V1_5_SHA_384`.
    RsassaPkcs1V15Sha384,
    /// `RSASSA_PKCS1_V1_5_SHA_512`.
    RsassaPkcs1V15Sha512,
    /// `ECDSA_SHA_256`.
    EcdsaSha256,
    /// `ECDSA_SHA_384`.
    EcdsaSha384,
}

impl SigningAlgorithm {
    /// Every signing algorithm.
    pub const ALL: [SigningAlgorithm; 8] = [
        SigningAlgorithm::RsassaPssSha256,
        SigningAlgorithm::RsassaPssSha384,
        SigningAlgorithm::RsassaPssSha512,
        SigningAlgorithm::RsassaPkcs1V15Sha256,
        SigningAlgorithm::RsassaPkcs1V15Sha384,
        SigningAlgorithm::RsassaPkcs1V15Sha512,
        SigningAlgorithm::EcdsaSha256,
        SigningAlgorithm::EcdsaSha384,
    ];

    /// Parses an AWS signing algorithm name (`RSASSA_PSS_SHA_256`, …, `ECDSA_SHA_384`).
    pub fn parse(s: &str) -> Option<SigningAlgorithm> {
        SigningAlgorithm::ALL.into_iter().find(|alg| alg.as_str() == s)
    }

    /// The AWS signing algorithm name.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::RsassaPssSha256 => "RSASSA_PSS_SHA_256",
            SigningAlgorithm::RsassaPssSha384 => "RSASSA_PSS_SHA_384",
            SigningAlgorithm::RsassaPssSha512 => "RSASSA_PSS_SHA_512",
            SigningAlgorithm::RsassaPkcs1V15Sha256 => "RSASSA_PKCS1_V1_5_SHA_256",
            SigningAlgorithm::RsassaPkcs1V15Sha384 => "RSASSA_PKCS1_V1_5_SHA_384",
            SigningAlgorithm::RsassaPkcs1V15Sha512 => "RSASSA_PKCS1_V1_5_SHA_512",
            SigningAlgorithm::EcdsaSha256 => "ECDSA_SHA_256",
            SigningAlgorithm::EcdsaSha384 => "ECDSA_SHA_384",
        }
    }

    /// The length in bytes of the algorithm's hash: what a [`MessageType::Digest`] must be.
    pub fn digest_len(self) -> usize {
        self.hash().len()
    }

    fn hash(self) -> Hash {
        match self {
            SigningAlgorithm::RsassaPssSha256
            | SigningAlgorithm::RsassaPkcs1V15Sha256
            | SigningAlgorithm::EcdsaSha256 => Hash::Sha256,
            SigningAlgorithm::RsassaPssSha384
            | SigningAlgorithm::RsassaPkcs1V15Sha384
            | SigningAlgorithm::EcdsaSha384 => Hash::Sha384,
            SigningAlgorithm::RsassaPssSha512 | SigningAlgorithm::RsassaPkcs1V15Sha512 => {
                Hash::Sha512
            }
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the message given to Sign or Verify is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    /// `RAW`: the message itself, hashed before signing.
    Raw,
    /// `DIGEST`: the message's hash, computed by the caller, signed as is.
    Digest,
}

impl MessageType {
    /// Parses an AWS message type (`RAW`, `DIGEST`).
    pub fn parse(s: &str) -> Option<MessageType> {
        match s {
            "RAW" => Some(MessageType::Raw),
            "DIGEST" => Some(MessageType::Digest),
            _ => None,
        }
    }

    /// The AWS message type name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Raw => "RAW",
            MessageType::Digest => "DIGEST",
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A KMS asymmetric encryption algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncryptionAlgorithm {
    /// `RSAES_OAEP_SHA_1`: OAEP with SHA-1 and MGF1-SHA-1.
    RsaesOaepSha1,
    /// `RSAES_OAEP_SHA_256`: OAEP with SHA-256 and MGF1-SHA-256.
    RsaesOaepSha256,
}

impl EncryptionAlgorithm {
    /// Parses an AWS encryption algorithm name (`RSAES_OAEP_SHA_1`, `RSAES_OAEP_SHA_256`).
    /// `SYMMETRIC_DEFAULT` is not an asymmetric algorithm and is not accepted.
    pub fn parse(s: &str) -> Option<EncryptionAlgorithm> {
        match s {
            "RSAES_OAEP_SHA_1" => Some(EncryptionAlgorithm::RsaesOaepSha1),
            "RSAES_OAEP_SHA_256" => Some(EncryptionAlgorithm::RsaesOaepSha256),
            _ => None,
        }
    }

    /// The AWS encryption algorithm name.
    pub fn as_str(self) -> &'static str {
        match self {
            EncryptionAlgorithm::RsaesOaepSha1 => "RSAES_OAEP_SHA_1",
            EncryptionAlgorithm::RsaesOaepSha256 => "RSAES_OAEP_SHA_256",
        }
    }

    /// The length in bytes of the OAEP hash.
    fn hash_len(self) -> usize {
        match self {
            EncryptionAlgorithm::RsaesOaepSha1 => 20,
            EncryptionAlgorithm::RsaesOaepSha256 => 32,
        }
    }

    fn padding(self) -> Oaep {
        match self {
            EncryptionAlgorithm::RsaesOaepSha1 => Oaep::new::<sha1::Sha1>(),
            EncryptionAlgorithm::RsaesOaepSha256 => Oaep::new::<Sha256>(),
        }
    }
}

impl fmt::Display for EncryptionAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an asymmetric operation failed. Messages never contain key material, plaintext or
/// message bytes, and do not say why a decryption failed.
#[derive(Debug, thiserror::Error)]
pub enum AsymmetricError {
    /// The signing algorithm does not belong to the key spec.
    #[error("signing algorithm `{algorithm}` is not valid for key spec `{spec}`")]
    SigningAlgorithmMismatch {
        /// The requested algorithm.
        algorithm: SigningAlgorithm,
        /// The key's spec.
        spec: AsymmetricSpec,
    },
    /// The encryption algorithm does not belong to the key spec (ECC keys encrypt nothing).
    #[error("encryption algorithm `{algorithm}` is not valid for key spec `{spec}`")]
    EncryptionAlgorithmMismatch {
        /// The requested algorithm.
        algorithm: EncryptionAlgorithm,
        /// The key's spec.
        spec: AsymmetricSpec,
    },
    /// A raw message is empty.
    #[error("message must not be empty")]
    EmptyMessage,
    /// A raw message is longer than [`MAX_MESSAGE_LEN`].
    #[error("message is {len} bytes, longer than the limit of {MAX_MESSAGE_LEN}")]
    MessageTooLong {
        /// The message's length.
        len: usize,
    },
    /// A digest message is not as long as the algorithm's hash.
    #[error("digest is {actual} bytes, but `{algorithm}` needs {expected}")]
    DigestLength {
        /// The signing algorithm.
        algorithm: SigningAlgorithm,
        /// The hash's length.
        expected: usize,
        /// The digest's length.
        actual: usize,
    },
    /// The plaintext to encrypt is empty.
    #[error("plaintext must not be empty")]
    EmptyPlaintext,
    /// The plaintext to encrypt is longer than [`max_plaintext`] allows.
    #[error(
        "plaintext is {len} bytes, longer than the limit of {max} for `{algorithm}` with key spec `{spec}`"
    )]
    PlaintextTooLong {
        /// The plaintext's length.
        len: usize,
        /// The limit.
        max: usize,
        /// The encryption algorithm.
        algorithm: EncryptionAlgorithm,
        /// The key's spec.
        spec: AsymmetricSpec,
    },
    /// The private key is not valid DER PKCS#8, or not a key of the spec.
    #[error("private key is malformed or not a `{spec}` key")]
    InvalidPrivateKey {
        /// The spec the key should have.
        spec: AsymmetricSpec,
    },
    /// The public key is not valid DER SubjectPublicKeyInfo, or not a key of the spec.
    #[error("public key is malformed or not a `{spec}` key")]
    InvalidPublicKey {
        /// The spec the key should have.
        spec: AsymmetricSpec,
    },
    /// Key generation failed.
    #[error("could not generate a `{spec}` key")]
    KeyGeneration {
        /// The spec asked for.
        spec: AsymmetricSpec,
    },
    /// A key could not be DER-encoded.
    #[error("could not encode a `{spec}` key")]
    Encoding {
        /// The key's spec.
        spec: AsymmetricSpec,
    },
    /// The signature could not be computed.
    #[error("signing failed")]
    Signing,
    /// The plaintext could not be encrypted.
    #[error("encryption failed")]
    Encryption,
    /// The ciphertext is malformed, was made for another key or algorithm, or was altered.
    #[error("ciphertext could not be decrypted")]
    Decryption,
}

/// The hashes signatures use.
#[derive(Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
            Hash::Sha512 => Sha512::digest(message).to_vec(),
        }
    }
}

/// Generates a new private key of `spec`, as PKCS#8 DER.
pub fn generate(spec: AsymmetricSpec) -> Result<SecretBytes, AsymmetricError> {
    match spec {
        AsymmetricSpec::Rsa2048 | AsymmetricSpec::Rsa3072 | AsymmetricSpec::Rsa4096 => {
            let bits = spec.rsa_bits().ok_or(AsymmetricError::KeyGeneration { spec })?;
            let key = RsaPrivateKey::new(&mut OsRng, bits)
                .map_err(|_| AsymmetricError::KeyGeneration { spec })?;
            let der = key.to_pkcs8_der().map_err(|_| AsymmetricError::Encoding { spec })?;
            Ok(SecretBytes::new(der.as_bytes().to_vec()))
        }
        AsymmetricSpec::EccNistP256 => nist_p256::generate(spec),
        AsymmetricSpec::EccNistP384 => nist_p384::generate(spec),
    }
}

/// The public key of a private key of `spec`, as X.509 SubjectPublicKeyInfo DER (what
/// GetPublicKey returns).
pub fn public_key_der(
    spec: AsymmetricSpec,
    private_pkcs8: &[u8],
) -> Result<Vec<u8>, AsymmetricError> {
    match spec {
        AsymmetricSpec::Rsa2048 | AsymmetricSpec::Rsa3072 | AsymmetricSpec::Rsa4096 => {
            let key = rsa_private(spec, private_pkcs8)?;
            let der = key
                .to_public_key()
                .to_public_key_der()
                .map_err(|_| AsymmetricError::Encoding { spec })?;
            Ok(der.into_vec())
        }
        AsymmetricSpec::EccNistP256 => nist_p256::public_key_der(spec, private_pkcs8),
        AsymmetricSpec::EccNistP384 => nist_p384::public_key_der(spec, private_pkcs8),
    }
}

/// Generates a data key pair: the private key as PKCS#8 DER and the public key as
/// SubjectPublicKeyInfo DER.
pub fn generate_pair(spec: AsymmetricSpec) -> Result<(SecretBytes, Vec<u8>), AsymmetricError> {
    let private = generate(spec)?;
    let public = public_key_der(spec, private.expose())?;
    Ok((private, public))
}

/// The public key of an RSA private key as PKCS #1 `RSAPublicKey` DER (the form CloudTrail's
/// `ListPublicKeys` serves digest keys in).
///
/// # Errors
/// [`AsymmetricError::Encoding`] if `private_pkcs8` is not an RSA key.
pub fn rsa_public_pkcs1_der(private_pkcs8: &[u8]) -> Result<Vec<u8>, AsymmetricError> {
    use rsa::pkcs1::EncodeRsaPublicKey;
    let spec = AsymmetricSpec::Rsa2048;
    let key = RsaPrivateKey::from_pkcs8_der(private_pkcs8)
        .map_err(|_| AsymmetricError::Encoding { spec })?;
    let der =
        RsaPublicKey::from(&key).to_pkcs1_der().map_err(|_| AsymmetricError::Encoding { spec })?;
    Ok(der.as_bytes().to_vec())
}

/// Signs `message` with a private key of `spec` (Sign).
///
/// RSA signatures are as long as the modulus; ECDSA signatures are DER-encoded.
pub fn sign(
    spec: AsymmetricSpec,
    private_pkcs8: &[u8],
    alg: SigningAlgorithm,
    message: &[u8],
    kind: MessageType,
) -> Result<Vec<u8>, AsymmetricError> {
    let digest = prehash(spec, alg, message, kind)?;
    match spec {
        AsymmetricSpec::Rsa2048 | AsymmetricSpec::Rsa3072 | AsymmetricSpec::Rsa4096 => {
            let key = rsa_private(spec, private_pkcs8)?;
            let signed = match rsa_padding(spec, alg)? {
                RsaPadding::Pkcs1V15(padding) => key.sign_with_rng(&mut OsRng, padding, &digest),
                RsaPadding::Pss(padding) => key.sign_with_rng(&mut OsRng, padding, &digest),
            };
            signed.map_err(|_| AsymmetricError::Signing)
        }
        AsymmetricSpec::EccNistP256 => nist_p256::sign(spec, private_pkcs8, &digest),
        AsymmetricSpec::EccNistP384 => nist_p384::sign(spec, private_pkcs8, &digest),
    }
}

/// Checks `signature` over `message` with a public key of `spec` (Verify).
///
/// Returns `Ok(false)` for a signature that does not verify, malformed ones included, and an
/// error for a request that [`sign`] would refuse or a public key that is not of `spec`.
pub fn verify(
    spec: AsymmetricSpec,
    public_spki_der: &[u8],
    alg: SigningAlgorithm,
    message: &[u8],
    kind: MessageType,
    signature: &[u8],
) -> Result<bool, AsymmetricError> {
    let digest = prehash(spec, alg, message, kind)?;
    match spec {
        AsymmetricSpec::Rsa2048 | AsymmetricSpec::Rsa3072 | AsymmetricSpec::Rsa4096 => {
            let key = rsa_public(spec, public_spki_der)?;
            let verified = match rsa_padding(spec, alg)? {
                RsaPadding::Pkcs1V15(padding) => key.verify(padding, &digest, signature),
                RsaPadding::Pss(padding) => key.verify(padding, &digest, signature),
            };
            Ok(verified.is_ok())
        }
        AsymmetricSpec::EccNistP256 => nist_p256::verify(spec, public_spki_der, &digest, signature),
        AsymmetricSpec::EccNistP384 => nist_p384::verify(spec, public_spki_der, &digest, signature),
    }
}

/// The longest plaintext `alg` can encrypt under a key of `spec`: the modulus length less twice
/// the hash length less 2 (RFC 8017 §7.1.1), which gives AWS's published limits. `None` for ECC.
pub fn max_plaintext(spec: AsymmetricSpec, alg: EncryptionAlgorithm) -> Option<usize> {
    let modulus_len = spec.rsa_bits()? / 8;
    modulus_len.checked_sub(2 * alg.hash_len() + 2)
}

/// Encrypts `plaintext` with RSAES-OAEP under a public key of `spec` (Encrypt).
pub fn encrypt(
    spec: AsymmetricSpec,
    public_spki_der: &[u8],
    alg: EncryptionAlgorithm,
    plaintext: &[u8],
) -> Result<Vec<u8>, AsymmetricError> {
    let max = max_plaintext(spec, alg)
        .ok_or(AsymmetricError::EncryptionAlgorithmMismatch { algorithm: alg, spec })?;
    if plaintext.is_empty() {
        return Err(AsymmetricError::EmptyPlaintext);
    }
    if plaintext.len() > max {
        return Err(AsymmetricError::PlaintextTooLong {
            len: plaintext.len(),
            max,
            algorithm: alg,
            spec,
        });
    }
    let key = rsa_public(spec, public_spki_der)?;
    key.encrypt(&mut OsRng, alg.padding(), plaintext).map_err(|_| AsymmetricError::Encryption)
}

/// Decrypts an RSAES-OAEP `ciphertext` with a private key of `spec` (Decrypt).
///
/// Every malformed, altered or foreign ciphertext gives the same [`AsymmetricError::Decryption`].
pub fn decrypt(
    spec: AsymmetricSpec,
    private_pkcs8: &[u8],
    alg: EncryptionAlgorithm,
    ciphertext: &[u8],
) -> Result<SecretBytes, AsymmetricError> {
    if !spec.encryption_algorithms().contains(&alg) {
        return Err(AsymmetricError::EncryptionAlgorithmMismatch { algorithm: alg, spec });
    }
    let key = rsa_private(spec, private_pkcs8)?;
    key.decrypt_blinded(&mut OsRng, alg.padding(), ciphertext)
        .map(SecretBytes::new)
        .map_err(|_| AsymmetricError::Decryption)
}

/// Checks that `alg` belongs to `spec` and turns `message` into the digest to sign.
fn prehash(
    spec: AsymmetricSpec,
    alg: SigningAlgorithm,
    message: &[u8],
    kind: MessageType,
) -> Result<Vec<u8>, AsymmetricError> {
    if !spec.signing_algorithms().contains(&alg) {
        return Err(AsymmetricError::SigningAlgorithmMismatch { algorithm: alg, spec });
    }
    match kind {
        MessageType::Raw => {
            if message.is_empty() {
                return Err(AsymmetricError::EmptyMessage);
            }
            if message.len() > MAX_MESSAGE_LEN {
                return Err(AsymmetricError::MessageTooLong { len: message.len() });
            }
            Ok(alg.hash().digest(message))
        }
        MessageType::Digest => {
            if message.len() != alg.digest_len() {
                return Err(AsymmetricError::DigestLength {
                    algorithm: alg,
                    expected: alg.digest_len(),
                    actual: message.len(),
                });
            }
            Ok(message.to_vec())
        }
    }
}

/// An RSA signature padding, ready to sign or verify a digest.
enum RsaPadding {
    Pkcs1V15(Pkcs1v15Sign),
    Pss(Pss),
}

fn rsa_padding(spec: AsymmetricSpec, alg: SigningAlgorithm) -> Result<RsaPadding, AsymmetricError> {
    // `Pss::new_blinded` is standard RSASSA-PSS whose private-key operation is blinded; the salt
    // is as long as the hash, and MGF1 uses the same hash.
    Ok(match alg {
        SigningAlgorithm::RsassaPkcs1V15Sha256 => {
            RsaPadding::Pkcs1V15(Pkcs1v15Sign::new::<Sha256>())
        }
        SigningAlgorithm::RsassaPkcs1V15Sha384 => {
            RsaPadding::Pkcs1V15(Pkcs1v15Sign::new::<Sha384>())
        }
        SigningAlgorithm::RsassaPkcs1V15Sha512 => {
            RsaPadding::Pkcs1V15(Pkcs1v15Sign::new::<Sha512>())
        }
        SigningAlgorithm::RsassaPssSha256 => RsaPadding::Pss(Pss::new_blinded::<Sha256>()),
        SigningAlgorithm::RsassaPssSha384 => RsaPadding::Pss(Pss::new_blinded::<Sha384>()),
        SigningAlgorithm::RsassaPssSha512 => RsaPadding::Pss(Pss::new_blinded::<Sha512>()),
        SigningAlgorithm::EcdsaSha256 | SigningAlgorithm::EcdsaSha384 => {
            return Err(AsymmetricError::SigningAlgorithmMismatch { algorithm: alg, spec })
        }
    })
}

/// Parses an RSA private key and checks its modulus has the spec's size.
fn rsa_private(spec: AsymmetricSpec, der: &[u8]) -> Result<RsaPrivateKey, AsymmetricError> {
    let bits = spec.rsa_bits().ok_or(AsymmetricError::InvalidPrivateKey { spec })?;
    let key = RsaPrivateKey::from_pkcs8_der(der)
        .map_err(|_| AsymmetricError::InvalidPrivateKey { spec })?;
    if key.size() * 8 != bits {
        return Err(AsymmetricError::InvalidPrivateKey { spec });
    }
    Ok(key)
}

/// Parses an RSA public key and checks its modulus has the spec's size.
fn rsa_public(spec: AsymmetricSpec, der: &[u8]) -> Result<RsaPublicKey, AsymmetricError> {
    let bits = spec.rsa_bits().ok_or(AsymmetricError::InvalidPublicKey { spec })?;
    let key = RsaPublicKey::from_public_key_der(der)
        .map_err(|_| AsymmetricError::InvalidPublicKey { spec })?;
    if key.size() * 8 != bits {
        return Err(AsymmetricError::InvalidPublicKey { spec });
    }
    Ok(key)
}

/// The ECDSA operations for one NIST curve. The two curves' types share no trait that would let
/// one generic function serve both without a page of bounds, so the same code is stamped out
/// once per curve crate.
macro_rules! ecdsa_curve {
    ($module:ident, $curve:ident) => {
        mod $module {
            use super::{AsymmetricError, AsymmetricSpec};
            use crate::secret::SecretBytes;
            use pkcs8::{DecodePrivateKey, EncodePrivateKey};
            use rand_core::OsRng;
            use signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};
            use spki::{DecodePublicKey, EncodePublicKey};
            use $curve::ecdsa::{DerSignature, SigningKey, VerifyingKey};
            use $curve::SecretKey;

            pub(super) fn generate(spec: AsymmetricSpec) -> Result<SecretBytes, AsymmetricError> {
                let der = SecretKey::random(&mut OsRng)
                    .to_pkcs8_der()
                    .map_err(|_| AsymmetricError::Encoding { spec })?;
                Ok(SecretBytes::new(der.as_bytes().to_vec()))
            }

            pub(super) fn public_key_der(
                spec: AsymmetricSpec,
                private_pkcs8: &[u8],
            ) -> Result<Vec<u8>, AsymmetricError> {
                let key = SecretKey::from_pkcs8_der(private_pkcs8)
                    .map_err(|_| AsymmetricError::InvalidPrivateKey { spec })?;
                let der = key
                    .public_key()
                    .to_public_key_der()
                    .map_err(|_| AsymmetricError::Encoding { spec })?;
                Ok(der.into_vec())
            }

            pub(super) fn sign(
                spec: AsymmetricSpec,
                private_pkcs8: &[u8],
                digest: &[u8],
            ) -> Result<Vec<u8>, AsymmetricError> {
                let key = SigningKey::from_pkcs8_der(private_pkcs8)
                    .map_err(|_| AsymmetricError::InvalidPrivateKey { spec })?;
                let signature: DerSignature = key
                    .sign_prehash_with_rng(&mut OsRng, digest)
                    .map_err(|_| AsymmetricError::Signing)?;
                Ok(signature.as_bytes().to_vec())
            }

            pub(super) fn verify(
                spec: AsymmetricSpec,
                public_spki_der: &[u8],
                digest: &[u8],
                signature: &[u8],
            ) -> Result<bool, AsymmetricError> {
                let key = VerifyingKey::from_public_key_der(public_spki_der)
                    .map_err(|_| AsymmetricError::InvalidPublicKey { spec })?;
                let Ok(signature) = DerSignature::from_bytes(signature) else {
                    return Ok(false);
                };
                Ok(key.verify_prehash(digest, &signature).is_ok())
            }

            pub(super) fn ecdh(
                spec: AsymmetricSpec,
                private_pkcs8: &[u8],
                peer_spki_der: &[u8],
            ) -> Result<SecretBytes, AsymmetricError> {
                let key = SecretKey::from_pkcs8_der(private_pkcs8)
                    .map_err(|_| AsymmetricError::InvalidPrivateKey { spec })?;
                let peer = $curve::PublicKey::from_public_key_der(peer_spki_der)
                    .map_err(|_| AsymmetricError::InvalidPublicKey { spec })?;
                let shared =
                    $curve::ecdh::diffie_hellman(key.to_nonzero_scalar(), peer.as_affine());
                Ok(SecretBytes::new(shared.raw_secret_bytes().to_vec()))
            }
        }
    };
}

/// ECDH (KMS `DeriveSharedSecret`): the shared secret of a private key of `spec` (PKCS#8
/// DER) and a peer's public key on the same curve (SubjectPublicKeyInfo DER), as KMS returns
/// it: the x-coordinate of the shared point, unhashed.
///
/// # Errors
/// [`AsymmetricError::InvalidPublicKey`] when the peer's key is not a point of the curve
/// (another curve, malformed DER); RSA specs agree no keys.
pub fn ecdh(
    spec: AsymmetricSpec,
    private_pkcs8: &[u8],
    peer_spki_der: &[u8],
) -> Result<SecretBytes, AsymmetricError> {
    match spec {
        AsymmetricSpec::EccNistP256 => nist_p256::ecdh(spec, private_pkcs8, peer_spki_der),
        AsymmetricSpec::EccNistP384 => nist_p384::ecdh(spec, private_pkcs8, peer_spki_der),
        _ => Err(AsymmetricError::InvalidPublicKey { spec }),
    }
}

ecdsa_curve!(nist_p256, p256);
ecdsa_curve!(nist_p384, p384);

#[cfg(test)]
#[path = "asymmetric_tests.rs"]
mod tests;
