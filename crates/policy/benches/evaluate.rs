//! Evaluation cost: one request against 10 policies / 50 statements and against
//! 100 policies / 1,000 statements, realistic ones with conditions, wildcards and variables.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use policy::{evaluate, parse_policy, Context, NamedPolicy, Policy, PolicySet, Principal, Request};

const SERVICES: &[(&str, &[&str])] = &[
    ("s3", &["GetObject", "PutObject", "ListBucket", "DeleteObject", "GetBucketPolicy"]),
    ("ec2", &["RunInstances", "DescribeInstances", "TerminateInstances", "CreateTags"]),
    ("dynamodb", &["GetItem", "PutItem", "Query", "Scan"]),
    ("kms", &["Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey"]),
    ("sqs", &["SendMessage", "ReceiveMessage", "DeleteMessage"]),
    ("lambda", &["InvokeFunction", "GetFunction", "UpdateFunctionCode"]),
    ("logs", &["PutLogEvents", "CreateLogStream", "GetLogEvents"]),
    ("sns", &["Publish", "Subscribe"]),
    ("iam", &["GetRole", "PassRole", "ListRoles"]),
    ("cloudwatch", &["PutMetricData", "GetMetricData"]),
    ("secretsmanager", &["GetSecretValue", "DescribeSecret"]),
    ("ssm", &["GetParameter", "GetParameters", "PutParameter"]),
    ("ecr", &["GetAuthorizationToken", "BatchGetImage", "PutImage"]),
    ("ecs", &["RunTask", "DescribeTasks", "UpdateService"]),
    ("rds", &["DescribeDBInstances", "CreateDBSnapshot"]),
    ("kinesis", &["PutRecord", "GetRecords"]),
    ("states", &["StartExecution", "DescribeExecution"]),
    ("events", &["PutEvents", "PutRule"]),
    ("glue", &["GetTable", "GetDatabase"]),
    ("athena", &["StartQueryExecution", "GetQueryResults"]),
    ("route53", &["ChangeResourceRecordSets", "ListHostedZones"]),
    ("cloudformation", &["CreateStack", "DescribeStacks"]),
    ("elasticloadbalancing", &["DescribeLoadBalancers", "RegisterTargets"]),
    ("autoscaling", &["SetDesiredCapacity", "DescribeAutoScalingGroups"]),
    ("apigateway", &["GET", "POST"]),
    ("cognito-idp", &["AdminGetUser", "ListUsers"]),
    ("firehose", &["PutRecordBatch"]),
    ("xray", &["PutTraceSegments"]),
    ("codebuild", &["StartBuild", "BatchGetBuilds"]),
    ("sts", &["AssumeRole", "GetCallerIdentity"]),
];

/// Statement `n` of a generated policy set: exact and wildcard actions, ARNs with wildcards and
/// variables, and a condition on every third statement.
fn statement(n: usize) -> String {
    let (service, actions) = SERVICES[n % SERVICES.len()];
    let action = if n.is_multiple_of(4) {
        format!("\"{service}:{}*\"", &actions[n % actions.len()][..3])
    } else {
        format!(
            "[\"{service}:{}\", \"{service}:{}\"]",
            actions[n % actions.len()],
            actions[(n + 1) % actions.len()]
        )
    };
    let resource = match service {
        "s3" => format!("\"arn:aws:s3:::bucket-{}/home/${{aws:username}}/*\"", n % 7),
        "iam" => "\"arn:aws:iam::111122223333:role/app-*\"".to_string(),
        _ => format!("\"arn:aws:{service}:us-east-1:111122223333:*\""),
    };
    let effect = if n % 10 == 9 { "Deny" } else { "Allow" };
    let condition = match n % 3 {
        0 => ",\"Condition\":{\"StringEquals\":{\"aws:PrincipalTag/team\":[\"blue\",\"green\"]},\"Bool\":{\"aws:SecureTransport\":\"true\"}}".to_string(),
        1 => ",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"2001:db8::/32\"]}}".to_string(),
        _ => String::new(),
    };
    let effect_condition = if effect == "Deny" {
        ",\"Condition\":{\"StringNotEquals\":{\"aws:RequestedRegion\":[\"us-east-1\",\"eu-west-1\"]}}".to_string()
    } else {
        condition
    };
    format!(
        "{{\"Sid\":\"S{n}\",\"Effect\":\"{effect}\",\"Action\":{action},\"Resource\":{resource}{effect_condition}}}"
    )
}

fn policies(count: usize, per_policy: usize) -> Vec<Policy> {
    (0..count)
        .map(|p| {
            let statements: Vec<String> =
                (0..per_policy).map(|s| statement(p * per_policy + s)).collect();
            let text =
                format!("{{\"Version\":\"2012-10-17\",\"Statement\":[{}]}}", statements.join(","));
            parse_policy(&text).unwrap()
        })
        .collect()
}

fn request() -> Request {
    let mut context = Context::new();
    context.set("aws:SourceIp", "10.1.2.3");
    context.set("aws:SecureTransport", "true");
    context.set("aws:PrincipalTag/team", "blue");
    context.set("aws:RequestedRegion", "us-east-1");
    Request::new(
        Principal::parse("arn:aws:iam::111122223333:user/alice").unwrap(),
        "s3:GetObject",
        "arn:aws:s3:::bucket-0/home/alice/report.csv",
        Some("111122223333"),
        context,
    )
}

fn bench(c: &mut Criterion) {
    let request = request();
    for (count, per) in [(10, 5), (100, 10)] {
        let ps = policies(count, per);
        let set = PolicySet {
            identity: ps.iter().map(|p| NamedPolicy { name: "p", policy: p }).collect(),
            ..PolicySet::default()
        };
        let decision = evaluate(&request, &set).decision;
        assert_eq!(decision, policy::Decision::Allowed, "the bench request must reach an allow");
        c.bench_function(&format!("evaluate/{count}_policies_{}_statements", count * per), |b| {
            b.iter(|| evaluate(black_box(&request), black_box(&set)))
        });
    }
    let policy_text = {
        let statements: Vec<String> = (0..50).map(statement).collect();
        format!("{{\"Version\":\"2012-10-17\",\"Statement\":[{}]}}", statements.join(","))
    };
    c.bench_function("parse/50_statements", |b| {
        b.iter(|| parse_policy(black_box(&policy_text)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
