//! Server-side encryption of objects: which key seals an object's data key, and how a request
//! gets it back. Every object is sealed under a fresh data key (`crypto::object`); that key is
//! kept wrapped either
//!
//! - by KMS, which S3 calls **as the caller** with `kms:ViaService` = `s3.<region>.amazonaws.com`
//!   and the encryption context `aws:s3:arn`, as AWS does: under the key the request or the
//!   bucket's default names for SSE-KMS, under the account's `aws/s3` key for SSE-S3 (`AES256`,
//!   what a write that asks for nothing gets, as in S3); or
//! - by a key the customer sends with each request (SSE-C, only over TLS): AES-256-GCM with the
//!   object's ARN as associated data. The server keeps neither the customer's key nor a hash of
//!   it; the wrapping's tag is what tells a wrong key (403) from the right one.
//!
//! **S3 Bucket Keys.** An SSE-KMS write into a bucket whose default encryption has
//! `BucketKeyEnabled` (or that sends `x-amz-server-side-encryption-bucket-key-enabled: true`,
//! which `false` overrides) does not ask KMS for a data key of its own: KMS makes a bucket key
//! (the encryption context is then the bucket's ARN, `aws:s3:arn` = `arn:aws:s3:::BUCKET`), the
//! server keeps it in memory a few minutes ([`super::bucket_keys`]), and each object's data key
//! is derived from it with a fresh salt and the object's ARN (`crypto::derive::object_key`). The
//! record keeps the bucket key's KMS ciphertext and the salt. KMS's cryptography is done once per
//! bucket, KMS key and period; its authorization is not spared: every write is authorized as
//! its caller for `kms:GenerateDataKey`, and every read for `kms:Decrypt` of the object's bucket
//! key, before anything kept in memory is used. SSE-S3, DSSE-KMS and SSE-C never use one, as
//! in S3.
//!
//! As in S3, the ETag of an SSE-KMS or SSE-C object is not the MD5 of its plaintext: it is an
//! HMAC of that MD5 under the object's data key ([`Sealing::keyed_etag`]), so nothing stored
//! in the clear hashes their plaintext. An SSE-S3 object's ETag is its MD5, as S3's is.

use super::bucket_keys::WriteKey;
use super::input::{CustomerKeyHeaders, Encryption};
use super::s3err;
use super::Bucket;
use crate::error::ApiError;
use crate::pipeline::events::RequestFacts;
use crate::pipeline::service::Ctx;
use crate::pipeline::State;
use crate::records::s3::WrappedDataKey;
use base64::Engine;
use md5::{Digest, Md5};

/// The SSE-C request headers for the object itself.
pub const CUSTOMER: &str = "x-amz-server-side-encryption-customer-";
/// The SSE-C request headers for a copy's source.
pub const COPY_SOURCE: &str = "x-amz-copy-source-server-side-encryption-customer-";

/// The response header that says an object is sealed with an S3 Bucket Key.
pub const BUCKET_KEY_HEADER: &str = "x-amz-server-side-encryption-bucket-key-enabled";

/// The envelope key id for SSE-C wrappings: the customer's key has no id we keep.
const CUSTOMER_KEY_ID: crypto::KeyId = crypto::KeyId([0; 8]);

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// A customer-provided key (SSE-C), checked against the MD5 the client sent with it.
pub struct CustomerKey {
    key: crypto::SecretBytes,
    /// The client's base64 MD5 of the key, echoed in responses as S3 does.
    md5: String,
}

impl CustomerKey {
    /// The response headers that confirm SSE-C.
    pub fn headers(&self) -> Vec<(String, String)> {
        vec![
            (format!("{CUSTOMER}algorithm"), "AES256".into()),
            (format!("{CUSTOMER}key-MD5"), self.md5.clone()),
        ]
    }
}

/// The customer key the SSE-C headers give (for the object, or a copy's source), if the
/// request sends one. SSE-C needs TLS, `AES256`, a 256-bit key and its MD5, as in S3.
pub fn customer_key(
    headers: &CustomerKeyHeaders,
    facts: &RequestFacts,
) -> Result<Option<CustomerKey>, ApiError> {
    if !headers.any() {
        return Ok(None);
    }
    let (algorithm, key, md5) =
        (headers.algorithm.as_deref(), headers.key.as_deref(), headers.key_md5.as_deref());
    let invalid = |message: &str| s3err(400, "InvalidArgument", message);
    if !facts.secure {
        return Err(s3err(
            400,
            "InvalidRequest",
            "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.",
        ));
    }
    match algorithm {
        Some("AES256") => {}
        Some(_) => {
            return Err(s3err(
                400,
                "InvalidEncryptionAlgorithmError",
                "The encryption request you specified is not valid. The valid value is AES256.",
            ))
        }
        None => return Err(invalid("Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.")),
    }
    let key = key.ok_or_else(|| invalid("Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key."))?;
    let key = b64()
        .decode(key.trim())
        .ok()
        .filter(|k| k.len() == 32)
        .map(crypto::SecretBytes::new)
        .ok_or_else(|| invalid("The secret key was invalid for the specified algorithm."))?;
    let md5 = md5.ok_or_else(|| invalid("Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key."))?;
    let given = b64().decode(md5.trim()).unwrap_or_default();
    if given.as_slice() != Md5::digest(key.expose()).as_slice() {
        return Err(invalid(
            "The calculated MD5 hash of the key did not match the hash that was provided.",
        ));
    }
    Ok(Some(CustomerKey { key, md5: md5.trim().to_string() }))
}

/// The condition keys a write's encryption headers set (`s3:x-amz-server-side-encryption`,
/// its KMS key id, and `s3:x-amz-server-side-encryption-customer-algorithm`). Refuses
/// encryption S3 does not know, and SSE-C together with another method.
pub fn context(encryption: &Encryption) -> Result<Vec<(String, String)>, ApiError> {
    requested_bucket_key(encryption)?;
    let method = encryption.server_side_encryption.as_deref();
    match method {
        None | Some("aws:kms") | Some("AES256") | Some("aws:kms:dsse") => {}
        Some(other) => {
            return Err(s3err(
                400,
                "InvalidArgument",
                format!("Server Side Encryption with {other} is not supported."),
            ))
        }
    }
    let mut out = Vec::new();
    if let Some(algorithm) = &encryption.customer.algorithm {
        if method.is_some() || encryption.ssekms_key_id.is_some() {
            return Err(s3err(
                400,
                "InvalidArgument",
                "Server Side Encryption with Customer provided key is incompatible with the encryption method specified",
            ));
        }
        out.push((
            "s3:x-amz-server-side-encryption-customer-algorithm".into(),
            algorithm.to_string(),
        ));
        return Ok(out);
    }
    // A KMS key id needs `aws:kms` (or `aws:kms:dsse`), as in S3.
    if method == Some(SSE_S3) && encryption.ssekms_key_id.is_some() {
        return Err(s3err(
            400,
            "InvalidArgument",
            "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
        ));
    }
    // The key is present only when the request sends the header (a `Null` condition then
    // tells un-headed writes, which get the bucket's default, from headed ones), as in S3.
    if let Some(method) = method {
        out.push(("s3:x-amz-server-side-encryption".into(), method.to_string()));
    }
    if let Some(k) = &encryption.ssekms_key_id {
        out.push(("s3:x-amz-server-side-encryption-aws-kms-key-id".into(), k.clone()));
    }
    Ok(out)
}

/// What `x-amz-server-side-encryption-bucket-key-enabled` asks of a write: a bucket key
/// (`Some(true)`), none (`Some(false)`), or what the bucket's default says (`None`). Any other
/// value is refused.
fn requested_bucket_key(encryption: &Encryption) -> Result<Option<bool>, ApiError> {
    match encryption.bucket_key_enabled.as_deref() {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(s3err(
            400,
            "InvalidArgument",
            "x-amz-server-side-encryption-bucket-key-enabled must be true or false",
        )),
    }
}

/// A new object's data key: the plaintext key, how the record keeps it wrapped, and the
/// response headers that say how.
pub struct Sealing {
    pub data_key: crypto::SecretBytes,
    pub wrapped: WrappedDataKey,
    pub headers: Vec<(String, String)>,
}

impl Sealing {
    /// Whether the object's ETags are keyed (SSE-KMS and SSE-C) rather than its MD5 (SSE-S3).
    pub fn keyed_etag(&self) -> bool {
        keyed_etag(&self.wrapped)
    }
}

/// Whether an object (or upload) kept as `stored` has keyed ETags: SSE-C, and SSE-KMS written
/// since ETags were keyed.
pub fn keyed_etag(stored: &WrappedDataKey) -> bool {
    is_customer(stored) || stored.sse.as_deref().is_some_and(|m| m.starts_with("aws:kms"))
}

/// The encryption a write gets: the request's, else the bucket's default, else SSE-S3.
fn method<'a>(encryption: &'a Encryption, bucket: &'a Bucket) -> &'a str {
    if let Some(m) = encryption.server_side_encryption.as_deref() {
        return m;
    }
    if encryption.ssekms_key_id.is_some() {
        return "aws:kms";
    }
    bucket_default(&bucket.body)
}

/// A bucket's default encryption: what `PutBucketEncryption` asked for; none is SSE-S3, as in
/// S3 (a bucket from before the algorithm was kept that has a default key is SSE-KMS).
pub fn bucket_default(bucket: &crate::records::s3::Bucket) -> &str {
    match (bucket.sse_algorithm.as_deref(), &bucket.kms_key_id) {
        (Some(m), _) => m,
        (None, Some(_)) => "aws:kms",
        (None, None) => SSE_S3,
    }
}

/// SSE-S3's name in S3's headers.
const SSE_S3: &str = "AES256";
/// SSE-KMS's name in S3's headers (the one encryption S3 Bucket Keys are for).
const SSE_KMS: &str = "aws:kms";

/// The response headers that say how an object kept as `stored` is encrypted (not SSE-C's:
/// those echo the request's key), and whether it is sealed with an S3 Bucket Key.
pub fn stored_headers(stored: &WrappedDataKey) -> Vec<(String, String)> {
    match stored.sse.as_deref() {
        Some(SSE_S3) => vec![("x-amz-server-side-encryption".into(), SSE_S3.into())],
        method => {
            let arn = stored.kms_key_arn.as_deref().unwrap_or_default();
            let mut headers = kms_headers(method.unwrap_or(SSE_KMS), arn);
            if stored.bucket_key_salt.is_some() {
                headers.push((BUCKET_KEY_HEADER.into(), "true".into()));
            }
            headers
        }
    }
}

/// A fresh data key for object `key` of `bucket`, wrapped under the request's customer key
/// (SSE-C) or else by KMS as the caller under the request's key, the bucket's default key, or
/// the account's `aws/s3` key; for SSE-KMS with an S3 Bucket Key, derived from the bucket key.
pub fn new_key(
    ctx: &Ctx<'_>,
    encryption: &Encryption,
    bucket: &Bucket,
    key: &str,
) -> Result<Sealing, ApiError> {
    let (state, facts) = (ctx.state, ctx.facts);
    if let Some(customer) = customer_key(&encryption.customer, facts)? {
        let data_key = crypto::object::new_data_key();
        let wrapped = crypto::seal(
            &customer.key,
            CUSTOMER_KEY_ID,
            object_arn(&bucket.key, key).as_bytes(),
            data_key.expose(),
        )
        .map_err(|_| ApiError::internal("the object's data key could not be sealed"))?;
        let wrapped = WrappedDataKey {
            customer_wrapped_key: Some(b64().encode(wrapped)),
            ..WrappedDataKey::default()
        };
        return Ok(Sealing { data_key, wrapped, headers: customer.headers() });
    }
    let method = method(encryption, bucket);
    // An S3 Bucket Key: SSE-KMS only, when the request asks for one or, saying nothing, the
    // bucket's default does.
    let bucket_key = requested_bucket_key(encryption)?.unwrap_or(bucket.body.bucket_key_enabled);
    if method == SSE_KMS && bucket_key {
        return with_bucket_key(ctx, encryption, bucket, key);
    }
    let key_id = if method == SSE_S3 {
        crate::services::kms::s3_default_key(
            state,
            &bucket.account,
            &bucket.body.region,
            facts.time_ms,
        )?
    } else {
        kms_key(state, encryption, bucket, facts)?
    };
    // SSE-S3 is S3's own encryption: the writer needs no KMS permission, as in S3.
    let via_service = (method != SSE_S3).then(|| via(bucket));
    let (data_key, wrapped, key_arn) = crate::services::kms::data_key_for(
        ctx,
        &key_id,
        &kms_context(&bucket.key, key),
        via_service.as_deref(),
    )
    .map_err(kms_denied)?;
    let wrapped = WrappedDataKey {
        wrapped_key: Some(b64().encode(wrapped)),
        kms_key_arn: Some(key_arn),
        customer_wrapped_key: None,
        sse: Some(method.to_string()),
        bucket_key_salt: None,
    };
    Ok(Sealing { data_key, headers: stored_headers(&wrapped), wrapped })
}

/// A new SSE-KMS object's data key derived from the bucket key of its bucket and KMS key: the
/// caller is authorized for `kms:GenerateDataKey` (through S3, the bucket's ARN as encryption
/// context) as every SSE-KMS write is; KMS makes a bucket key only when this server holds
/// none made in the last minutes ([`super::bucket_keys`]). The object's salt is fresh.
fn with_bucket_key(
    ctx: &Ctx<'_>,
    encryption: &Encryption,
    bucket: &Bucket,
    key: &str,
) -> Result<Sealing, ApiError> {
    let key_id = kms_key(ctx.state, encryption, bucket, ctx.facts)?;
    let arn = bucket_arn(&bucket.key);
    let context = bucket_context(&bucket.key);
    let authorized = crate::services::kms::authorize_generate(ctx, &key_id, &context, &via(bucket))
        .map_err(kms_denied)?;
    let held = &ctx.state.bucket_keys;
    let slot = WriteKey {
        account: bucket.account.clone(),
        bucket: bucket.key.clone(),
        created_ms: bucket.body.created_ms,
        key_arn: authorized.arn().to_string(),
    };
    let (wrapped, bucket_key) = match held.for_writing(&slot, ctx.now()) {
        Some(found) => found,
        None => {
            let (plaintext, wrapped) =
                crate::services::kms::generate_authorized(ctx, &authorized).map_err(kms_denied)?;
            held.issued(slot, &arn, &wrapped, &plaintext, ctx.now());
            (wrapped, plaintext)
        }
    };
    let salt = crypto::derive::new_salt();
    let data_key = object_data_key(&bucket_key, &salt, bucket, key)?;
    let wrapped = WrappedDataKey {
        wrapped_key: Some(b64().encode(&wrapped)),
        kms_key_arn: Some(authorized.arn().to_string()),
        customer_wrapped_key: None,
        sse: Some(SSE_KMS.to_string()),
        bucket_key_salt: Some(b64().encode(salt)),
    };
    Ok(Sealing { data_key, headers: stored_headers(&wrapped), wrapped })
}

/// Opens the data key of object `key` of `bucket`, sealed with the bucket key `wrapped` and
/// `salt`. The caller is authorized for `kms:Decrypt` of `wrapped` (through S3, the bucket's
/// ARN as encryption context) on every request, and only then may a bucket key this server
/// opened (or made) in the last minutes spare KMS's cryptography: an entry is found by that
/// very ciphertext and context, so it gives exactly what KMS would give this caller.
fn open_with_bucket_key(
    ctx: &Ctx<'_>,
    wrapped: &[u8],
    salt: &str,
    bucket: &Bucket,
    key: &str,
) -> Result<crypto::SecretBytes, ApiError> {
    let salt =
        b64().decode(salt).map_err(|_| ApiError::internal("an object's data key is malformed"))?;
    let arn = bucket_arn(&bucket.key);
    let context = bucket_context(&bucket.key);
    let authorized = crate::services::kms::authorize_decrypt(ctx, wrapped, &context, &via(bucket))
        .map_err(kms_denied)?;
    let held = &ctx.state.bucket_keys;
    let bucket_key = match held.opened(&arn, wrapped, ctx.now()) {
        Some(opened) => opened,
        None => {
            let opened =
                crate::services::kms::decrypt_authorized(ctx, &authorized).map_err(kms_denied)?;
            held.remember_opened(&arn, wrapped, &opened, ctx.now());
            opened
        }
    };
    object_data_key(&bucket_key, &salt, bucket, key)
}

/// Object `key`'s data key from its bucket's bucket key and its salt.
fn object_data_key(
    bucket_key: &crypto::SecretBytes,
    salt: &[u8],
    bucket: &Bucket,
    key: &str,
) -> Result<crypto::SecretBytes, ApiError> {
    crypto::derive::object_key(bucket_key, salt, &object_arn(&bucket.key, key))
        .map_err(|_| ApiError::internal("an object's data key cannot be derived"))
}

/// Opens the data key of an object (or upload) of `key` in `bucket`, kept as `wrapped`: with the
/// request's customer key (see [`customer_key`]) if it is an SSE-C object, else by KMS as the
/// caller (for an object sealed with an S3 Bucket Key, its bucket key, then derived). Returns
/// the key and the response headers that say how it was sealed.
pub fn open_key(
    ctx: &Ctx<'_>,
    customer: Option<CustomerKey>,
    stored: &WrappedDataKey,
    bucket: &Bucket,
    key: &str,
) -> Result<(crypto::SecretBytes, Vec<(String, String)>), ApiError> {
    let Some(wrapped) = stored.customer_wrapped_key.as_deref() else {
        if customer.is_some() {
            return Err(s3err(
                400,
                "InvalidRequest",
                "The encryption parameters are not applicable to this object.",
            ));
        }
        // An object always has its data key wrapped one way or the other: none is malformed.
        let wrapped = stored
            .wrapped_key
            .as_deref()
            .and_then(|w| b64().decode(w).ok())
            .ok_or_else(|| ApiError::internal("an object's data key is malformed"))?;
        if let Some(salt) = stored.bucket_key_salt.as_deref() {
            let data_key = open_with_bucket_key(ctx, &wrapped, salt, bucket, key)?;
            return Ok((data_key, stored_headers(stored)));
        }
        let context = kms_context(&bucket.key, key);
        let data_key = if stored.sse.as_deref() == Some(SSE_S3) {
            // SSE-S3 is S3's own: whoever S3 lets read the object reads it.
            crate::services::kms::decrypt_as_s3(ctx, &wrapped, &context, &bucket.account)?
        } else {
            crate::services::kms::decrypt_for(ctx, &wrapped, &context, &via(bucket))
                .map_err(kms_denied)?
        };
        return Ok((data_key, stored_headers(stored)));
    };
    let customer = customer.ok_or_else(|| {
        s3err(
            400,
            "InvalidRequest",
            "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
        )
    })?;
    let wrapped = b64()
        .decode(wrapped)
        .map_err(|_| ApiError::internal("an object's data key is malformed"))?;
    let data_key = crypto::open(
        &customer.key,
        CUSTOMER_KEY_ID,
        object_arn(&bucket.key, key).as_bytes(),
        &wrapped,
    )
    .map_err(|_| s3err(403, "AccessDenied", "Access Denied"))?;
    Ok((data_key, customer.headers()))
}

/// SSE-KMS's response headers.
fn kms_headers(method: &str, key_arn: &str) -> Vec<(String, String)> {
    vec![
        ("x-amz-server-side-encryption".into(), method.into()),
        ("x-amz-server-side-encryption-aws-kms-key-id".into(), key_arn.to_string()),
    ]
}

/// Whether the record is an SSE-C object or upload.
pub fn is_customer(stored: &WrappedDataKey) -> bool {
    stored.customer_wrapped_key.is_some()
}

fn object_arn(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

fn bucket_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

/// A bucket key's encryption context: the bucket's ARN, as S3 Bucket Keys have it.
fn bucket_context(bucket: &str) -> Vec<(String, String)> {
    vec![("aws:s3:arn".to_string(), bucket_arn(bucket))]
}

fn via(bucket: &Bucket) -> String {
    format!("s3.{}.amazonaws.com", bucket.body.region)
}

fn kms_context(bucket: &str, key: &str) -> Vec<(String, String)> {
    vec![("aws:s3:arn".to_string(), object_arn(bucket, key))]
}

/// KMS refusals reach the S3 caller as `AccessDenied`; KMS's other client errors keep their
/// code under a `KMS.` prefix, as S3 reports them.
fn kms_denied(mut e: ApiError) -> ApiError {
    if e.code == "AccessDeniedException" {
        s3err(403, "AccessDenied", e.message)
    } else if e.status == 400 {
        e.code = format!("KMS.{}", e.code);
        e
    } else {
        e
    }
}

/// The KMS key for new objects: the request's, the bucket's default, or the account's `aws/s3`
/// key.
fn kms_key(
    state: &State,
    encryption: &Encryption,
    bucket: &Bucket,
    facts: &RequestFacts,
) -> Result<String, ApiError> {
    if let Some(k) = &encryption.ssekms_key_id {
        return Ok(k.clone());
    }
    if let Some(k) = &bucket.body.kms_key_id {
        return Ok(k.clone());
    }
    let region = bucket.body.region.clone();
    crate::services::kms::s3_default_key(state, &bucket.account, &region, facts.time_ms)
}
