#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Bad input: malformed query strings and JSON, oversized bodies, wrong signatures, unknown
//! actions and services. Each gets a clear AWS-shaped error, changes nothing, and is audited.

mod common;

use common::start;
use std::process::Command;

/// Sends signed (or deliberately broken) raw requests with botocore and prints
/// `status|body` per request.
const CLIENT: &str = r#"
import sys, json, urllib.request
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, key, secret = sys.argv[1], sys.argv[2], sys.argv[3]
def send(service, body, headers, sign=True, secret_override=None, method='POST', query=''):
    req = AWSRequest(method=method, url=url + '/' + (('?' + query) if query else ''), data=body, headers=headers)
    if sign:
        SigV4Auth(Credentials(key, secret_override or secret), service, 'us-east-1').add_auth(req)
    r = urllib.request.Request(req.url, data=req.body if method == 'POST' else None, headers=dict(req.headers.items()), method=method)
    try:
        resp = urllib.request.urlopen(r)
        return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
form = {'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'}
js = lambda t: {'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': t}
cases = [
    ('no-action', send('iam', b'Version=2010-05-08', form)),
    ('bad-action', send('iam', b'Action=Explode&Version=2010-05-08', form)),
    ('bad-percent', send('iam', b'Action=CreateUser&UserName=%zz%&Version=2010-05-08', form)),
    ('missing-param', send('iam', b'Action=CreateUser&Version=2010-05-08', form)),
    ('bad-name', send('iam', b'Action=CreateUser&UserName=a%20b&Version=2010-05-08', form)),
    ('bad-json', send('cloudtrail', b'{not json', js('com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents'))),
    ('bad-max', send('cloudtrail', b'{"MaxResults": 500}', js('com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents'))),
    ('wrong-signature', send('iam', b'Action=CreateUser&UserName=eve&Version=2010-05-08', form, secret_override='nope')),
    ('unsigned', send('iam', b'Action=CreateUser&UserName=eve&Version=2010-05-08', form, sign=False)),
    ('unknown-service', send('sqs', b'Action=ListQueues', form)),
    ('oversized', send('iam', b'Action=CreateUser&UserName=big&Version=2010-05-08&Pad=' + b'x' * (1024 * 1024 + 10), form)),
]
for name, (status, body) in cases:
    print(json.dumps({'case': name, 'status': status, 'body': body}))
"#;

#[test]
fn bad_input_gets_aws_errors_changes_nothing_and_is_audited() {
    let server = start("badinput");
    let data_dir = server.dir.display().to_string();
    let created = common::invite_and_redeem(&server.url, &data_dir, "acme");
    let account = created["AccountId"].as_str().unwrap().to_string();
    let store_before = {
        let store = common::open_store(&server);
        let mut r = store.read().unwrap();
        (r.audit_head(&account).unwrap().size, r.audit_head("000000000000").unwrap().size)
    };
    let out = Command::new(common::python())
        .arg("-c")
        .arg(CLIENT)
        .args([
            &server.url,
            created["AccessKeyId"].as_str().unwrap(),
            created["SecretAccessKey"].as_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let results: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let expect = [
        ("no-action", 400, "InvalidAction"),
        ("bad-action", 400, "InvalidAction"),
        ("bad-percent", 400, "ValidationError"),
        ("missing-param", 400, "ValidationError"),
        ("bad-name", 400, "ValidationError"),
        ("bad-json", 400, "SerializationException"),
        ("bad-max", 400, "InvalidMaxResultsException"),
        ("wrong-signature", 403, "SignatureDoesNotMatch"),
        ("unsigned", 403, "MissingAuthenticationToken"),
        ("unknown-service", 400, "UnknownService"),
        ("oversized", 413, "RequestEntityTooLarge"),
    ];
    assert_eq!(results.len(), expect.len());
    for (r, (case, status, code)) in results.iter().zip(expect) {
        assert_eq!(r["case"], case);
        assert_eq!(r["status"], status, "{case}: {r}");
        assert!(r["body"].as_str().unwrap().contains(code), "{case}: {r}");
    }
    // Nothing changed: no user was created by any of them.
    let store = common::open_store(&server);
    let mut read = store.read().unwrap();
    let users = read
        .list_records(&store::RecordQuery {
            account: &account,
            kind: "user",
            prefix: "",
            after: None,
            limit: 100,
        })
        .unwrap();
    assert!(users.items.is_empty(), "{:?}", users.items);
    // Every one was audited: 9 in the account's log (the signed ones), 2 in the operator
    // realm's (the unsigned and the oversized request name no account).
    let after =
        (read.audit_head(&account).unwrap().size, read.audit_head("000000000000").unwrap().size);
    assert_eq!(after.0 - store_before.0, 9, "account log");
    assert_eq!(after.1 - store_before.1, 2, "operator realm log");
}
