//! The PKCS#11 root of trust: the root key is an AES-256 key generated inside an HSM, and every
//! wrap and unwrap is an AES-GCM operation the HSM performs. Tested against SoftHSM2.
//!
//! # What is trusted
//!
//! - **The HSM and its PKCS#11 module** (the shared library named in the configuration): they
//!   hold the key, generate it, and compute AES-GCM correctly. The module runs inside our process,
//!   so it is as trusted as our own code; a module from an untrusted path is game over.
//! - **The key's attributes.** The key is created with `CKA_TOKEN`, `CKA_PRIVATE`,
//!   `CKA_SENSITIVE` true and `CKA_EXTRACTABLE` false (and without wrap, unwrap, sign, verify or
//!   derive rights), so the HSM refuses to reveal its value to anyone, the PIN holder included.
//!   A key found under the configured label is used only if it has these properties
//!   ([`Pkcs11Error::KeyUnsuitable`] otherwise): a planted extractable key is refused.
//! - **The operating system's random generator** ([`rand_core::OsRng`]) for the 96-bit IVs.
//!
//! Not trusted: the stored blobs. [`RootOfTrust::unwrap`] parses them strictly and the HSM
//! authenticates them; tampering, truncation, another format or another context fails with an
//! [`EnvelopeError`], never a panic. SoftHSM2 reports a failed tag as `CKR_GENERAL_ERROR`, so
//! that answer to `C_Decrypt` counts as "unauthentic" like `CKR_ENCRYPTED_DATA_INVALID`.
//!
//! Whoever holds the PIN can ask the HSM to decrypt (that is what the PIN is for) but cannot copy
//! the key out, so a stolen database together with a stolen PIN is still useless away from the
//! HSM.
//!
//! # The PIN
//!
//! The user PIN comes from configuration ([`Pkcs11Config::pin`]), never from the source. It lives
//! in [`SecretBytes`] (zeroized, printed as `[redacted]`) and no error or `Debug` output carries
//! it. PKCS#11 logs in per process and token, not per session, so this module remembers the PIN
//! each token was logged in with: a second [`Pkcs11Root::open`] of an already logged-in token
//! succeeds only with the same PIN (compared in constant time); any other PIN fails as incorrect.
//!
//! # Format (version 1)
//!
//! `0x50 | IV (12 bytes) | AES-256-GCM ciphertext | tag (16 bytes)`, at least 29 bytes.
//!
//! The IV is fresh from the operating system for every call. The additional authenticated data
//! is the format byte followed by the caller's context, so a blob opens only for the context it
//! was sealed for and cannot be relabelled as another format. The blob does not name the key: the
//! key is the one under the configured label, and rotating it will need a new format byte.
//!
//! # Sessions
//!
//! A PKCS#11 module may be initialized only once per process (`C_Initialize`, with OS locking), so
//! contexts live in a process-wide registry keyed by the module path ([`shared_context`]) and are
//! never finalized. Each [`Pkcs11Root`] keeps one logged-in session behind a mutex; a poisoned
//! lock fails closed. A lost session (the HSM restarted) fails every call until the root is
//! opened again.

use crate::envelope::{EnvelopeError, NONCE_LEN};
use crate::root::RootOfTrust;
use crate::secret::SecretBytes;
use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::error::{Error as CryptokiError, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::{RawAuthPin, Ulong};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The format byte of a version 1 blob ("P" for PKCS#11).
pub const FORMAT: u8 = 0x50;
/// The IV length (96 bits, GCM's native size).
pub const IV_LEN: usize = NONCE_LEN;
/// The GCM tag length (128 bits).
pub const TAG_LEN: usize = 16;
/// The shortest well-formed blob: format byte, IV and tag around an empty ciphertext.
pub const MIN_LEN: usize = 1 + IV_LEN + TAG_LEN;
/// The key length (AES-256).
const KEY_LEN: usize = 32;

/// Where the HSM is and how to log in to it.
///
/// `Debug` prints the PIN as `[redacted]` (it is a [`SecretBytes`]).
#[derive(Clone, Debug)]
pub struct Pkcs11Config {
    /// The PKCS#11 module (shared library), for example `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// The label of the token holding the key.
    pub token_label: String,
    /// The user PIN, from configuration.
    pub pin: SecretBytes,
    /// The label of the AES-256 root key in the token.
    pub key_label: String,
}

/// Why the HSM cannot be used. Never carries the PIN or key bytes.
#[derive(Debug, thiserror::Error)]
pub enum Pkcs11Error {
    /// The module cannot be loaded or initialized.
    #[error("cannot load the PKCS#11 module `{path}`: {source}")]
    Module {
        /// The module path.
        path: PathBuf,
        /// What the loader or module said.
        source: CryptokiError,
    },
    /// No initialized token carries the label.
    #[error("no PKCS#11 token is labelled `{0}`")]
    TokenNotFound(String),
    /// More than one token carries the label.
    #[error("more than one PKCS#11 token is labelled `{0}`")]
    TokenAmbiguous(String),
    /// The HSM refused the PIN.
    #[error("the PIN for PKCS#11 token `{0}` is incorrect")]
    PinIncorrect(String),
    /// The user PIN is locked after too many failures.
    #[error("the PIN for PKCS#11 token `{0}` is locked")]
    PinLocked(String),
    /// The token is already logged in, but not by this module (or as the security officer).
    #[error("PKCS#11 token `{0}` is already logged in by someone else in this process")]
    LoggedInElsewhere(String),
    /// More than one AES key carries the label.
    #[error("more than one key in the PKCS#11 token is labelled `{0}`")]
    KeyAmbiguous(String),
    /// The key under the label does not have the properties a root key must have.
    #[error("the key labelled `{label}` cannot be a root key: {reason}")]
    KeyUnsuitable {
        /// The key label.
        label: String,
        /// Which property is missing.
        reason: &'static str,
    },
    /// A PKCS#11 call failed.
    #[error("PKCS#11 {operation} failed: {source}")]
    Hsm {
        /// What was being done.
        operation: &'static str,
        /// The module's answer.
        source: CryptokiError,
    },
    /// The HSM answered with output of the wrong size.
    #[error("the HSM returned {0} bytes where another length was expected")]
    UnexpectedOutput(usize),
    /// A lock was poisoned by a panic elsewhere; the session is not used again.
    #[error("the PKCS#11 session lock is poisoned")]
    LockPoisoned,
    /// The blob is too short or of another format.
    #[error("the ciphertext is not a PKCS#11 version 1 blob")]
    Malformed,
    /// The context or plaintext is too long for the module's integer type.
    #[error("the input is too long for the PKCS#11 module")]
    TooLong,
    /// The HSM refused the ciphertext: tampered, or opened with the wrong context or key.
    #[error("the ciphertext failed authentication")]
    Unauthentic,
}

impl From<Pkcs11Error> for EnvelopeError {
    fn from(error: Pkcs11Error) -> EnvelopeError {
        match error {
            Pkcs11Error::Malformed | Pkcs11Error::TooLong => EnvelopeError::Malformed,
            Pkcs11Error::Unauthentic => EnvelopeError::Unauthentic,
            // The root key cannot be used right now (HSM unreachable, session lost, lock
            // poisoned). `EnvelopeError` has no closer variant; this never reads as "tampered".
            _ => EnvelopeError::BadKey,
        }
    }
}

fn hsm(operation: &'static str) -> impl FnOnce(CryptokiError) -> Pkcs11Error {
    move |source| Pkcs11Error::Hsm { operation, source }
}

/// One loaded and initialized module, and the PIN each of its tokens was logged in with.
struct Module {
    path: PathBuf,
    context: Pkcs11,
    logins: Vec<(Slot, SecretBytes)>,
}

/// Every module this process has initialized. Never finalized: `C_Finalize` would end the
/// sessions of every root using the module.
static MODULES: Mutex<Vec<Module>> = Mutex::new(Vec::new());

fn module_key(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn loaded<'a>(modules: &'a mut Vec<Module>, path: &Path) -> Result<&'a mut Module, Pkcs11Error> {
    let key = module_key(path);
    if let Some(index) = modules.iter().position(|m| m.path == key) {
        // INVARIANT: `index` was just found in this vector, which the caller's lock guards; the
        // error is unreachable.
        return modules.get_mut(index).ok_or(Pkcs11Error::LockPoisoned);
    }
    let module_error = |source| Pkcs11Error::Module { path: path.to_path_buf(), source };
    let context = Pkcs11::new(&key).map_err(module_error)?;
    context.initialize(CInitializeArgs::OsThreads).map_err(module_error)?;
    modules.push(Module { path: key, context, logins: Vec::new() });
    modules.last_mut().ok_or(Pkcs11Error::LockPoisoned)
}

/// The process-wide, initialized context of the module at `module`, loading it on first use.
///
/// PKCS#11 allows one `C_Initialize` per process and module: anything else in the process that
/// talks to the same HSM (tools, tests) must use this context rather than create its own.
pub fn shared_context(module: &Path) -> Result<Pkcs11, Pkcs11Error> {
    let mut modules = MODULES.lock().map_err(|_| Pkcs11Error::LockPoisoned)?;
    Ok(loaded(&mut modules, module)?.context.clone())
}

/// The root of trust in an HSM: wraps and unwraps with an AES-256 key that never leaves it.
pub struct Pkcs11Root {
    session: Mutex<Session>,
    key: ObjectHandle,
    module: PathBuf,
    token_label: String,
    key_label: String,
}

impl fmt::Debug for Pkcs11Root {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Root")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("key_label", &self.key_label)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Root {
    /// Opens the token with this label, logs in as the user, and finds the AES-256 key with
    /// `key_label`, creating it in the token if it does not exist (`CKA_TOKEN` true,
    /// `CKA_SENSITIVE` true, `CKA_EXTRACTABLE` false, `CKA_ENCRYPT`/`CKA_DECRYPT` true,
    /// `CKA_PRIVATE` true). The key never leaves the HSM.
    pub fn open(config: &Pkcs11Config) -> Result<Pkcs11Root, Pkcs11Error> {
        // Held throughout, so that logging in and creating the key are not raced by another
        // `open` in this process.
        let mut modules = MODULES.lock().map_err(|_| Pkcs11Error::LockPoisoned)?;
        let module = loaded(&mut modules, &config.module)?;
        let slot = find_token(&module.context, &config.token_label)?;
        let session = module.context.open_rw_session(slot).map_err(hsm("C_OpenSession"))?;
        log_in(module, slot, &session, config)?;
        let key = find_or_create_key(&session, &config.key_label)?;
        drop(modules);
        Ok(Pkcs11Root {
            session: Mutex::new(session),
            key,
            module: config.module.clone(),
            token_label: config.token_label.clone(),
            key_label: config.key_label.clone(),
        })
    }

    fn seal(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
        let mut iv = [0u8; IV_LEN];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut iv);
        let aad = aad(context)?;
        let mechanism = Mechanism::AesGcm(GcmParams::new(&iv, &aad, tag_bits()?));
        let sealed = {
            let session = self.session.lock().map_err(|_| Pkcs11Error::LockPoisoned)?;
            session.encrypt(&mechanism, self.key, plaintext).map_err(hsm("C_Encrypt"))?
        };
        if Some(sealed.len()) != plaintext.len().checked_add(TAG_LEN) {
            return Err(Pkcs11Error::UnexpectedOutput(sealed.len()));
        }
        let mut out = Vec::with_capacity(1 + IV_LEN + sealed.len());
        out.push(FORMAT);
        out.extend_from_slice(&iv);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn open_sealed(&self, context: &[u8], wrapped: &[u8]) -> Result<SecretBytes, Pkcs11Error> {
        let (iv, sealed) = parse(wrapped)?;
        let aad = aad(context)?;
        let mechanism = Mechanism::AesGcm(GcmParams::new(iv, &aad, tag_bits()?));
        let plaintext = {
            let session = self.session.lock().map_err(|_| Pkcs11Error::LockPoisoned)?;
            session.decrypt(&mechanism, self.key, sealed).map_err(|e| match e {
                // The standard answers for a failed tag, and SoftHSM2's (CKR_GENERAL_ERROR).
                CryptokiError::Pkcs11(
                    RvError::EncryptedDataInvalid
                    | RvError::EncryptedDataLenRange
                    | RvError::GeneralError
                    | RvError::FunctionFailed,
                    _,
                ) => Pkcs11Error::Unauthentic,
                other => Pkcs11Error::Hsm { operation: "C_Decrypt", source: other },
            })?
        };
        let plaintext = SecretBytes::new(plaintext);
        if Some(plaintext.len()) != sealed.len().checked_sub(TAG_LEN) {
            return Err(Pkcs11Error::UnexpectedOutput(plaintext.len()));
        }
        Ok(plaintext)
    }
}

impl Pkcs11Root {
    /// Generates an RSA-2048 key pair in the token: the private half a private, sensitive,
    /// non-extractable token object that can only sign; returns the public half as PKCS #1 DER.
    fn make_rsa_key(&self, label: &str) -> Result<Vec<u8>, Pkcs11Error> {
        use rsa::pkcs1::EncodeRsaPublicKey;
        let bits = Ulong::from(2048u64);
        let public_template = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::Encrypt(false),
            Attribute::Wrap(false),
            Attribute::ModulusBits(bits),
            Attribute::PublicExponent(vec![1, 0, 1]),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        let private_template =
            signing_only(label, &[Attribute::Decrypt(false), Attribute::Unwrap(false)]);
        let session = self.session.lock().map_err(|_| Pkcs11Error::LockPoisoned)?;
        let (public, _private) = session
            .generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public_template, &private_template)
            .map_err(hsm("C_GenerateKeyPair"))?;
        let wanted = [AttributeType::Modulus, AttributeType::PublicExponent];
        let attributes =
            session.get_attributes(public, &wanted).map_err(hsm("C_GetAttributeValue"))?;
        let (mut n, mut e) = (None, None);
        for a in attributes {
            match a {
                Attribute::Modulus(v) => n = Some(v),
                Attribute::PublicExponent(v) => e = Some(v),
                _ => {}
            }
        }
        let (Some(n), Some(e)) = (n, e) else { return Err(Pkcs11Error::UnexpectedOutput(0)) };
        let key = rsa::RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(&n),
            rsa::BigUint::from_bytes_be(&e),
        )
        .map_err(|_| Pkcs11Error::UnexpectedOutput(n.len()))?;
        let der = key.to_pkcs1_der().map_err(|_| Pkcs11Error::UnexpectedOutput(n.len()))?;
        Ok(der.as_bytes().to_vec())
    }

    /// Signs with the token's RSA private key labelled `label` (refused unless it is exactly
    /// one sensitive, non-extractable key).
    fn rsa_sign(&self, label: &str, message: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
        let session = self.session.lock().map_err(|_| Pkcs11Error::LockPoisoned)?;
        let key = signing_key(&session, KeyType::RSA, label)?;
        session.sign(&Mechanism::Sha256RsaPkcs, key, message).map_err(hsm("C_Sign"))
    }

    /// The public key of the token's Ed25519 key pair labelled `label`, generated on first use:
    /// the private half a private, sensitive, non-extractable token object that can only sign.
    fn ed25519_key(&self, label: &str) -> Result<[u8; 32], Pkcs11Error> {
        let session = self.session.lock().map_err(|_| Pkcs11Error::LockPoisoned)?;
        let public_template = [
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::EC_EDWARDS),
            Attribute::Token(true),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        let found = session.find_objects(&public_template).map_err(hsm("C_FindObjects"))?;
        let public = match found.as_slice() {
            [public] => {
                // The private half must be there, and fit, before the public one is trusted.
                signing_key(&session, KeyType::EC_EDWARDS, label)?;
                *public
            }
            [] => {
                let public_template = [
                    Attribute::Token(true),
                    Attribute::Private(false),
                    Attribute::Verify(true),
                    Attribute::EcParams(ED25519_OID.to_vec()),
                    Attribute::Label(label.as_bytes().to_vec()),
                ];
                let private_template = signing_only(label, &[]);
                session
                    .generate_key_pair(
                        &Mechanism::EccEdwardsKeyPairGen,
                        &public_template,
                        &private_template,
                    )
                    .map_err(hsm("C_GenerateKeyPair"))?
                    .0
            }
            _ => return Err(Pkcs11Error::KeyAmbiguous(label.to_owned())),
        };
        let attributes = session
            .get_attributes(public, &[AttributeType::EcPoint])
            .map_err(hsm("C_GetAttributeValue"))?;
        let point = attributes
            .into_iter()
            .find_map(|a| match a {
                Attribute::EcPoint(v) => Some(v),
                _ => None,
            })
            .unwrap_or_default();
        // CKA_EC_POINT is the DER OCTET STRING of the 32-byte key (some tokens give it bare).
        let raw = match point.as_slice() {
            [0x04, 32, rest @ ..] if rest.len() == 32 => rest,
            bare if bare.len() == 32 => bare,
            other => return Err(Pkcs11Error::UnexpectedOutput(other.len())),
        };
        let mut out = [0u8; 32];
        out.copy_from_slice(raw);
        Ok(out)
    }

    /// Signs with the token's Ed25519 private key labelled `label` (as [`Self::rsa_sign`]).
    fn ed25519_sign(&self, label: &str, message: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
        let session = self.session.lock().map_err(|_| Pkcs11Error::LockPoisoned)?;
        let key = signing_key(&session, KeyType::EC_EDWARDS, label)?;
        session.sign(&Mechanism::Eddsa, key, message).map_err(hsm("C_Sign"))
    }
}

/// The template of a private key that is a token object, private, sensitive, non-extractable
/// and can only sign, labelled `label`, with `more`.
fn signing_only(label: &str, more: &[Attribute]) -> Vec<Attribute> {
    let mut template = vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Derive(false),
        Attribute::Label(label.as_bytes().to_vec()),
    ];
    template.extend_from_slice(more);
    template
}

/// The DER encoding of Ed25519's object identifier, 1.3.101.112 (CKA_EC_PARAMS).
const ED25519_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];

/// The token's one private key of `kind` labelled `label`, refused unless it is sensitive and
/// non-extractable.
fn signing_key(session: &Session, kind: KeyType, label: &str) -> Result<ObjectHandle, Pkcs11Error> {
    let template = [
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::KeyType(kind),
        Attribute::Token(true),
        Attribute::Label(label.as_bytes().to_vec()),
    ];
    let found = session.find_objects(&template).map_err(hsm("C_FindObjects"))?;
    let [key] = found.as_slice() else {
        return Err(Pkcs11Error::KeyAmbiguous(label.to_owned()));
    };
    let wanted = [AttributeType::Sensitive, AttributeType::Extractable];
    let attributes = session.get_attributes(*key, &wanted).map_err(hsm("C_GetAttributeValue"))?;
    if !attributes.contains(&Attribute::Sensitive(true))
        || !attributes.contains(&Attribute::Extractable(false))
    {
        return Err(Pkcs11Error::KeyUnsuitable {
            label: label.to_owned(),
            reason: "it is extractable",
        });
    }
    Ok(*key)
}

impl RootOfTrust for Pkcs11Root {
    fn wrap(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        Ok(self.seal(context, plaintext)?)
    }

    fn unwrap(&self, context: &[u8], wrapped: &[u8]) -> Result<SecretBytes, EnvelopeError> {
        Ok(self.open_sealed(context, wrapped)?)
    }

    fn create_rsa_signing_key(&self, label: &str) -> Result<Option<Vec<u8>>, EnvelopeError> {
        Ok(Some(self.make_rsa_key(label)?))
    }

    fn sign_rsa_sha256(&self, label: &str, message: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        Ok(self.rsa_sign(label, message)?)
    }

    fn ed25519_signing_key(&self, label: &str) -> Result<Option<[u8; 32]>, EnvelopeError> {
        Ok(Some(self.ed25519_key(label)?))
    }

    fn sign_ed25519(&self, label: &str, message: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        Ok(self.ed25519_sign(label, message)?)
    }
}

/// Splits a blob into IV and ciphertext‖tag, refusing anything but a well-formed version 1 blob.
fn parse(wrapped: &[u8]) -> Result<(&[u8], &[u8]), Pkcs11Error> {
    match wrapped.split_first() {
        Some((&FORMAT, rest)) if wrapped.len() >= MIN_LEN => {
            rest.split_at_checked(IV_LEN).ok_or(Pkcs11Error::Malformed)
        }
        _ => Err(Pkcs11Error::Malformed),
    }
}

/// The additional authenticated data: the format byte, then the caller's context.
fn aad(context: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
    let mut aad = Vec::with_capacity(1 + context.len());
    aad.push(FORMAT);
    aad.extend_from_slice(context);
    // `GcmParams::new` panics on an AAD longer than a `CK_ULONG` (possible where it is 32 bits).
    Ulong::try_from(aad.len()).map_err(|_| Pkcs11Error::TooLong)?;
    Ok(aad)
}

fn tag_bits() -> Result<Ulong, Pkcs11Error> {
    Ulong::try_from(TAG_LEN * 8).map_err(|_| Pkcs11Error::TooLong)
}

fn find_token(context: &Pkcs11, label: &str) -> Result<Slot, Pkcs11Error> {
    let mut found = None;
    for slot in context.get_slots_with_initialized_token().map_err(hsm("C_GetSlotList"))? {
        let info = context.get_token_info(slot).map_err(hsm("C_GetTokenInfo"))?;
        if info.label() == label {
            if found.is_some() {
                return Err(Pkcs11Error::TokenAmbiguous(label.to_owned()));
            }
            found = Some(slot);
        }
    }
    found.ok_or_else(|| Pkcs11Error::TokenNotFound(label.to_owned()))
}

fn log_in(
    module: &mut Module,
    slot: Slot,
    session: &Session,
    config: &Pkcs11Config,
) -> Result<(), Pkcs11Error> {
    let token = || config.token_label.clone();
    let pin = RawAuthPin::new(config.pin.expose().to_vec());
    match session.login_with_raw(UserType::User, &pin) {
        Ok(()) => {
            module.logins.retain(|(s, _)| *s != slot);
            module.logins.push((slot, config.pin.clone()));
            Ok(())
        }
        // Logged in by an earlier `open` whose session is still open: PKCS#11 does not check the
        // PIN again, so we do.
        Err(CryptokiError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
            match module.logins.iter().find(|(s, _)| *s == slot) {
                Some((_, known)) if *known == config.pin => Ok(()),
                Some(_) => Err(Pkcs11Error::PinIncorrect(token())),
                None => Err(Pkcs11Error::LoggedInElsewhere(token())),
            }
        }
        Err(CryptokiError::Pkcs11(RvError::UserAnotherAlreadyLoggedIn, _)) => {
            Err(Pkcs11Error::LoggedInElsewhere(token()))
        }
        Err(CryptokiError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
            Err(Pkcs11Error::PinIncorrect(token()))
        }
        Err(CryptokiError::Pkcs11(RvError::PinLocked, _)) => Err(Pkcs11Error::PinLocked(token())),
        Err(other) => Err(hsm("C_Login")(other)),
    }
}

fn find_or_create_key(session: &Session, label: &str) -> Result<ObjectHandle, Pkcs11Error> {
    let template = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Token(true),
        Attribute::Label(label.as_bytes().to_vec()),
    ];
    let found = session.find_objects(&template).map_err(hsm("C_FindObjects"))?;
    match found.as_slice() {
        [] => create_key(session, label),
        [key] => {
            check_key(session, *key, label)?;
            Ok(*key)
        }
        _ => Err(Pkcs11Error::KeyAmbiguous(label.to_owned())),
    }
}

fn create_key(session: &Session, label: &str) -> Result<ObjectHandle, Pkcs11Error> {
    let template = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::ValueLen(Ulong::try_from(KEY_LEN).map_err(|_| Pkcs11Error::TooLong)?),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Encrypt(true),
        Attribute::Decrypt(true),
        Attribute::Wrap(false),
        Attribute::Unwrap(false),
        Attribute::Sign(false),
        Attribute::Verify(false),
        Attribute::Derive(false),
    ];
    let key =
        session.generate_key(&Mechanism::AesKeyGen, &template).map_err(hsm("C_GenerateKey"))?;
    check_key(session, key, label)?;
    Ok(key)
}

/// Refuses a key that is not a private, sensitive, non-extractable AES-256 token key usable for
/// encryption and decryption.
fn check_key(session: &Session, key: ObjectHandle, label: &str) -> Result<(), Pkcs11Error> {
    let wanted = [
        AttributeType::KeyType,
        AttributeType::ValueLen,
        AttributeType::Token,
        AttributeType::Private,
        AttributeType::Sensitive,
        AttributeType::Extractable,
        AttributeType::Encrypt,
        AttributeType::Decrypt,
    ];
    let attributes = session.get_attributes(key, &wanted).map_err(hsm("C_GetAttributeValue"))?;
    let has = |expected: &Attribute| attributes.iter().any(|a| a == expected);
    let unsuitable = |reason| Pkcs11Error::KeyUnsuitable { label: label.to_owned(), reason };
    let length = Ulong::try_from(KEY_LEN).map_err(|_| Pkcs11Error::TooLong)?;
    let required: [(Attribute, &'static str); 8] = [
        (Attribute::KeyType(KeyType::AES), "it is not an AES key"),
        (Attribute::ValueLen(length), "it is not 256 bits long"),
        (Attribute::Token(true), "it is not stored in the token"),
        (Attribute::Private(true), "it is not private"),
        (Attribute::Sensitive(true), "it is not sensitive"),
        (Attribute::Extractable(false), "it is extractable"),
        (Attribute::Encrypt(true), "it cannot encrypt"),
        (Attribute::Decrypt(true), "it cannot decrypt"),
    ];
    match required.iter().find(|(attribute, _)| !has(attribute)) {
        Some((_, reason)) => Err(unsuitable(reason)),
        None => Ok(()),
    }
}

// `Pkcs11Root` is shared between request handlers.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Pkcs11Root>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_only_version_1_blobs() {
        let mut blob = vec![FORMAT];
        blob.extend_from_slice(&[7; IV_LEN]);
        blob.extend_from_slice(&[9; TAG_LEN]);
        let (iv, sealed) = parse(&blob).unwrap();
        assert_eq!(iv, &[7; IV_LEN]);
        assert_eq!(sealed, &[9; TAG_LEN]);
        for len in 0..blob.len() {
            assert!(matches!(parse(&blob[..len]), Err(Pkcs11Error::Malformed)), "length {len}");
        }
        for format in [0x00, 0x01, 0x4f, 0x51, 0xff] {
            blob[0] = format;
            assert!(matches!(parse(&blob), Err(Pkcs11Error::Malformed)));
        }
    }

    #[test]
    fn aad_binds_the_format_byte() {
        assert_eq!(aad(b"ctx").unwrap(), b"Pctx");
        assert_eq!(aad(b"").unwrap(), [FORMAT]);
    }

    #[test]
    fn errors_map_to_envelope_errors() {
        assert_eq!(EnvelopeError::from(Pkcs11Error::Malformed), EnvelopeError::Malformed);
        assert_eq!(EnvelopeError::from(Pkcs11Error::Unauthentic), EnvelopeError::Unauthentic);
        assert_eq!(EnvelopeError::from(Pkcs11Error::LockPoisoned), EnvelopeError::BadKey);
    }

    #[test]
    fn config_debug_redacts_the_pin() {
        let config = Pkcs11Config {
            module: PathBuf::from("/m.so"),
            token_label: "t".into(),
            pin: SecretBytes::new(b"98765".to_vec()),
            key_label: "k".into(),
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("98765"), "{debug}");
        assert!(debug.contains("[redacted]"), "{debug}");
    }
}
