#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! KMS driven by boto3 and the AWS Encryption SDK against `hermetic serve`, on both stores.
//! Each feature of `scripts/kms.py` (key metadata, aliases and tags, encryption context and
//! tampering, data keys, disabling and rotation, key policies and grants, cross-account use,
//! the operator's refusal, asymmetric and HMAC keys, imported material, deletion windows, the
//! trail) is a test of its own on a fresh server; so are the Encryption SDK's keyrings
//! (`scripts/esdk.py`), a key record moved to another key id in the database (it no longer
//! opens) and automatic rotation. Each of these ends by checking that the trail verifies. Then
//! the root of trust in SoftHSM2.

mod common;

use common::{run_script as run, start_on, Backend, Server, Tenant};
use std::process::Command;

/// A server as every KMS test here starts it, with the tenant acme.
fn serve(backend: Backend) -> (Server, Tenant) {
    let server = start_on("kms", backend, &["--checkpoint-interval-secs", "1"]);
    let a = common::create_tenant(&server, "acme");
    (server, a)
}

/// Runs `scripts/kms.py` with its feature `name` on a fresh server (tenants acme and globex),
/// then checks that the trail verifies.
fn feature(name: &str, backend: Backend) {
    let (mut server, a) = serve(backend);
    let b = common::create_tenant(&server, "globex");
    common::run_with_tenants(&server, "kms", &a, &b, &[name]);
    common::stop_and_verify_trail(&mut server);
}

#[test]
fn kms_key_metadata_aliases_tags_on_sqlite() {
    feature("key_metadata_aliases_tags", Backend::Sqlite);
}

#[test]
fn kms_key_metadata_aliases_tags_on_postgres() {
    feature("key_metadata_aliases_tags", Backend::Postgres);
}

#[test]
fn kms_encryption_context_on_sqlite() {
    feature("encryption_context", Backend::Sqlite);
}

#[test]
fn kms_encryption_context_on_postgres() {
    feature("encryption_context", Backend::Postgres);
}

#[test]
fn kms_data_keys_on_sqlite() {
    feature("data_keys", Backend::Sqlite);
}

#[test]
fn kms_data_keys_on_postgres() {
    feature("data_keys", Backend::Postgres);
}

#[test]
fn kms_disable_and_rotation_on_sqlite() {
    feature("disable_and_rotation", Backend::Sqlite);
}

#[test]
fn kms_disable_and_rotation_on_postgres() {
    feature("disable_and_rotation", Backend::Postgres);
}

#[test]
fn kms_policies_and_grants_on_sqlite() {
    feature("policies_and_grants", Backend::Sqlite);
}

#[test]
fn kms_policies_and_grants_on_postgres() {
    feature("policies_and_grants", Backend::Postgres);
}

#[test]
fn kms_cross_account_on_sqlite() {
    feature("cross_account", Backend::Sqlite);
}

#[test]
fn kms_cross_account_on_postgres() {
    feature("cross_account", Backend::Postgres);
}

#[test]
fn kms_operator_refused_on_sqlite() {
    feature("operator_refused", Backend::Sqlite);
}

#[test]
fn kms_operator_refused_on_postgres() {
    feature("operator_refused", Backend::Postgres);
}

#[test]
fn kms_asymmetric_keys_on_sqlite() {
    feature("asymmetric_keys", Backend::Sqlite);
}

#[test]
fn kms_asymmetric_keys_on_postgres() {
    feature("asymmetric_keys", Backend::Postgres);
}

#[test]
fn kms_hmac_keys_on_sqlite() {
    feature("hmac_keys", Backend::Sqlite);
}

#[test]
fn kms_hmac_keys_on_postgres() {
    feature("hmac_keys", Backend::Postgres);
}

#[test]
fn kms_imported_material_on_sqlite() {
    feature("imported_material", Backend::Sqlite);
}

#[test]
fn kms_imported_material_on_postgres() {
    feature("imported_material", Backend::Postgres);
}

#[test]
fn kms_deletion_windows_on_sqlite() {
    feature("deletion_windows", Backend::Sqlite);
}

#[test]
fn kms_deletion_windows_on_postgres() {
    feature("deletion_windows", Backend::Postgres);
}

#[test]
fn kms_trail_on_sqlite() {
    feature("trail", Backend::Sqlite);
}

#[test]
fn kms_trail_on_postgres() {
    feature("trail", Backend::Postgres);
}

/// The AWS Encryption SDK's keyrings through this KMS (`scripts/esdk.py`).
fn esdk(backend: Backend) {
    let (mut server, a) = serve(backend);
    run("esdk", &[&server.url, &a.account, &a.key, &a.secret]);
    common::stop_and_verify_trail(&mut server);
}

#[test]
fn kms_esdk_on_sqlite() {
    esdk(Backend::Sqlite);
}

#[test]
fn kms_esdk_on_postgres() {
    esdk(Backend::Postgres);
}

/// A new key and a data key under it, through aws-cli: the key's id and the data key's
/// ciphertext as a `fileb://` argument (aws-cli takes raw bytes for blobs from `fileb://`).
fn key_and_data_key(server: &Server, a: &Tenant) -> (String, String) {
    let (ok, out, err) = common::aws(&server.url, &a.key, &a.secret, &["kms", "create-key"]);
    assert!(ok, "{err}");
    let key_id = serde_json::from_str::<serde_json::Value>(&out).unwrap()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let (ok, out, err) = common::aws(
        &server.url,
        &a.key,
        &a.secret,
        &["kms", "generate-data-key", "--key-id", &key_id, "--key-spec", "AES_256"],
    );
    assert!(ok, "{err}");
    let blob = serde_json::from_str::<serde_json::Value>(&out).unwrap()["CiphertextBlob"]
        .as_str()
        .unwrap()
        .to_string();
    let blob_file = server.dir.join("blob.bin");
    {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD.decode(&blob).unwrap();
        std::fs::write(&blob_file, raw).unwrap();
    }
    (key_id, format!("fileb://{}", blob_file.display()))
}

/// A key record copied under another key id does not open: its material is bound to the
/// original key's ARN. (An operator's copy is refused before that by the row's MAC; this test
/// writes with the server's own MAC key to show the binding beneath it.)
fn moved_key_record(backend: Backend) {
    let (mut server, a) = serve(backend);
    let (key_id, blob) = key_and_data_key(&server, &a);
    let store = common::open_trusted_store(&server);
    let forged_id = "00000000-1111-2222-3333-444444444444";
    {
        let mut tx = store.begin().unwrap();
        let mut record = tx.get_record(&a.account, "kms_key", &key_id).unwrap().unwrap();
        record.key = forged_id.to_string();
        let arn = format!("arn:aws:kms:us-east-1:{}:key/{forged_id}", a.account);
        record.body["KeyId"] = forged_id.into();
        record.body["Arn"] = arn.into();
        tx.put_record(&record, store::PutMode::Create).unwrap();
        tx.commit().unwrap();
    }
    let (ok, _, err) = common::aws(
        &server.url,
        &a.key,
        &a.secret,
        &["kms", "encrypt", "--key-id", forged_id, "--plaintext", "aGVsbG8="],
    );
    assert!(!ok && err.contains("InternalFailure"), "moved material must not open: {err}");
    let (ok, _, err) = common::aws(
        &server.url,
        &a.key,
        &a.secret,
        &["kms", "decrypt", "--ciphertext-blob", &blob, "--key-id", forged_id],
    );
    assert!(!ok && err.contains("IncorrectKeyException"), "{err}");
    common::stop_and_verify_trail(&mut server);
}

#[test]
fn kms_moved_key_record_does_not_open_on_sqlite() {
    moved_key_record(Backend::Sqlite);
}

#[test]
fn kms_moved_key_record_does_not_open_on_postgres() {
    moved_key_record(Backend::Postgres);
}

/// Automatic rotation: a key whose rotation date has passed is rotated by the server (the date
/// is moved into the past in the database; the server checks every interval), the rotation is
/// in the trail, and a data key made before it still decrypts.
fn automatic_rotation(backend: Backend) {
    let (mut server, a) = serve(backend);
    let (key_id, blob) = key_and_data_key(&server, &a);
    let store = common::open_trusted_store(&server);
    let (ok, _, err) = common::aws(
        &server.url,
        &a.key,
        &a.secret,
        &["kms", "enable-key-rotation", "--key-id", &key_id],
    );
    assert!(ok, "{err}");
    {
        let mut tx = store.begin().unwrap();
        let mut record = tx.get_record(&a.account, "kms_key", &key_id).unwrap().unwrap();
        record.body["NextRotationMs"] = 0.into();
        tx.put_record(&record, store::PutMode::Update).unwrap();
        tx.commit().unwrap();
    }
    let mut rotated = false;
    for _ in 0..20 {
        std::thread::sleep(std::time::Duration::from_millis(250));
        let (ok, out, err) = common::aws(
            &server.url,
            &a.key,
            &a.secret,
            &["kms", "list-key-rotations", "--key-id", &key_id],
        );
        assert!(ok, "{err}");
        if out.contains("AUTOMATIC") {
            rotated = true;
            break;
        }
    }
    assert!(rotated, "the key was rotated automatically");
    let (ok, out, err) = common::aws(
        &server.url,
        &a.key,
        &a.secret,
        &[
            "cloudtrail",
            "lookup-events",
            "--lookup-attributes",
            "AttributeKey=EventName,AttributeValue=RotateKey",
        ],
    );
    assert!(ok && out.contains("kms.amazonaws.com"), "{out}{err}");
    // The data key made before the rotation still decrypts.
    let (ok, _, err) = common::aws(
        &server.url,
        &a.key,
        &a.secret,
        &["kms", "decrypt", "--ciphertext-blob", &blob],
    );
    assert!(ok, "{err}");
    common::stop_and_verify_trail(&mut server);
}

#[test]
fn kms_automatic_rotation_on_sqlite() {
    automatic_rotation(Backend::Sqlite);
}

#[test]
fn kms_automatic_rotation_on_postgres() {
    automatic_rotation(Backend::Postgres);
}

/// The root of trust in an HSM (SoftHSM2 through PKCS#11): no key file is written, KMS keys
/// work, and after a restart the same HSM key opens everything stored before.
#[test]
fn root_of_trust_in_softhsm() {
    let dir = common::unique_dir("hsm");
    let (conf, args) = common::softhsm_token(&dir);
    let data = dir.join("data");
    let start = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hermetic"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .args(&args)
            .env("SOFTHSM2_CONF", &conf)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        // The server prints two lines; read both before the pipe closes.
        let second = lines.next().unwrap().unwrap();
        assert!(second.starts_with("operator credentials: "), "{second}");
        let url = first.strip_prefix("hermetic listening on ").unwrap().to_string();
        (child, url)
    };
    let (mut child, url) = start();
    assert!(!data.join("root.key").exists(), "no key file with an HSM root of trust");
    assert!(!server::bootstrap::root_key_path(&data, None).exists(), "nor beside the data");
    let server = common::Server {
        child: Command::new("true").spawn().unwrap(),
        url: url.clone(),
        dir: data.clone(),
        db_args: Vec::new(),
        blob_args: Vec::new(),
        schema: None,
    };
    let tenant = common::create_tenant(&server, "hsm");
    let (ok, out, err) = common::aws(&url, &tenant.key, &tenant.secret, &["kms", "create-key"]);
    assert!(ok, "{err}");
    let key_id = serde_json::from_str::<serde_json::Value>(&out).unwrap()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let encrypt = [
        "kms",
        "encrypt",
        "--key-id",
        &key_id,
        "--plaintext",
        "c2VjcmV0",
        "--query",
        "CiphertextBlob",
        "--output",
        "text",
    ];
    let (ok, out, err) = common::aws(&url, &tenant.key, &tenant.secret, &encrypt);
    assert!(ok, "{err}");
    let blob_file = dir.join("blob.bin");
    {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD.decode(out.trim()).unwrap();
        std::fs::write(&blob_file, raw).unwrap();
    }
    let _ = child.kill();
    let _ = child.wait();
    // Restarted, the server opens the tenant's key (and the tenant's access key) through the
    // same HSM key.
    let (mut child, url) = start();
    let blob = format!("fileb://{}", blob_file.display());
    let decrypt =
        ["kms", "decrypt", "--ciphertext-blob", &blob, "--query", "Plaintext", "--output", "text"];
    let (ok, out, err) = common::aws(&url, &tenant.key, &tenant.secret, &decrypt);
    assert!(ok, "{err}");
    // aws-cli v1 sends a blob argument's text as its bytes: the plaintext was "c2VjcmV0".
    assert_eq!(out.trim(), "YzJWamNtVjA=");
    let _ = child.kill();
    let _ = child.wait();
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn kms_key_agreement_on_sqlite() {
    feature("key_agreement", Backend::Sqlite);
}

#[test]
fn kms_key_agreement_on_postgres() {
    feature("key_agreement", Backend::Postgres);
}
