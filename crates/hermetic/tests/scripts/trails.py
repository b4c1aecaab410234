"""CloudTrail trails through boto3 against a running `hermetic serve`: the bucket policy
CreateTrail requires, the trail's lifecycle (create, get, describe, list, update, logging on and
off, status, event selectors basic and advanced, tags, delete), AWS's errors, the quota, IAM
authorization of each operation, another tenant's trails out of reach, and the operations in
the tenant's own log.

Usage: trails.py URL ACCOUNT ROOT_KEY ROOT_SECRET OTHER_ACCOUNT OTHER_KEY OTHER_SECRET OP_KEY OP_SECRET
Prints "ok" when every check held.
"""

import json
import sys

import checks
from checks import clients, fails

URL, ACCOUNT, KEY, SECRET, OTHER, OTHER_KEY, OTHER_SECRET, OP_KEY, OP_SECRET = sys.argv[1:10]


client = clients(URL)


ct = client("cloudtrail", KEY, SECRET)
s3 = client("s3", KEY, SECRET)
iam = client("iam", KEY, SECRET)
other = client("cloudtrail", OTHER_KEY, OTHER_SECRET)
BUCKET = f"trail-logs-{ACCOUNT}"
ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main"


def cloudtrail_policy(bucket, prefix=None, trails="main"):
    return checks.cloudtrail_policy(ACCOUNT, bucket, prefix, trails)


# --- the bucket: missing, then without a policy, then with one for another prefix
fails("S3BucketDoesNotExistException", ct.create_trail, Name="main", S3BucketName=BUCKET)
s3.create_bucket(Bucket=BUCKET)
fails("InsufficientS3BucketPolicyException", ct.create_trail, Name="main", S3BucketName=BUCKET)
s3.put_bucket_policy(Bucket=BUCKET, Policy=cloudtrail_policy(BUCKET, "elsewhere"))
fails("InsufficientS3BucketPolicyException", ct.create_trail, Name="main", S3BucketName=BUCKET)
s3.put_bucket_policy(Bucket=BUCKET, Policy=cloudtrail_policy(BUCKET))

# --- names and settings refused before anything is made
fails("InvalidTrailNameException", ct.create_trail, Name="a", S3BucketName=BUCKET)
fails("InvalidTrailNameException", ct.create_trail, Name="bad--name", S3BucketName=BUCKET)
fails("OrganizationsNotInUseException", ct.create_trail, Name="main", S3BucketName=BUCKET,
      IsOrganizationTrail=True)
fails("KmsKeyNotFoundException", ct.create_trail, Name="main", S3BucketName=BUCKET,
      KmsKeyId="alias/nope")
assert ct.list_trails()["Trails"] == []

# --- create, as AWS answers it: not logging, default settings
made = ct.create_trail(Name="main", S3BucketName=BUCKET, TagsList=[{"Key": "team", "Value": "blue"}])
assert made["Name"] == "main" and made["TrailARN"] == ARN, made
assert made["IncludeGlobalServiceEvents"] is True and made["IsMultiRegionTrail"] is False
assert made["LogFileValidationEnabled"] is False and made["IsOrganizationTrail"] is False
assert "HomeRegion" not in made
fails("TrailAlreadyExistsException", ct.create_trail, Name="main", S3BucketName=BUCKET)

got = ct.get_trail(Name="main")["Trail"]
assert got["HomeRegion"] == "us-east-1" and got["HasCustomEventSelectors"] is False, got
assert ct.get_trail(Name=ARN)["Trail"]["Name"] == "main"
fails("TrailNotFoundException", ct.get_trail, Name="nothere")
fails("CloudTrailARNInvalidException", ct.get_trail, Name="arn:aws:s3:::bucket")
assert [t["Name"] for t in ct.describe_trails()["trailList"]] == ["main"]
assert [t["Name"] for t in ct.describe_trails(trailNameList=["main", "nothere"])["trailList"]] == ["main"]
assert ct.list_trails()["Trails"] == [{"TrailARN": ARN, "Name": "main", "HomeRegion": "us-east-1"}]

# --- logging on and off, and its status
assert ct.get_trail_status(Name="main")["IsLogging"] is False
ct.start_logging(Name="main")
status = ct.get_trail_status(Name=ARN)
assert status["IsLogging"] is True and "StartLoggingTime" in status, status
ct.stop_logging(Name="main")
status = ct.get_trail_status(Name="main")
assert status["IsLogging"] is False and "StopLoggingTime" in status, status
ct.start_logging(Name="main")

# --- update: validation on, a KMS key of the account, a prefix the policy does not cover
key_arn = client("kms", KEY, SECRET).create_key(Description="trail")["KeyMetadata"]["Arn"]
updated = ct.update_trail(Name="main", EnableLogFileValidation=True, KmsKeyId=key_arn)
assert updated["LogFileValidationEnabled"] is True and updated["KmsKeyId"] == key_arn, updated
fails("InsufficientS3BucketPolicyException", ct.update_trail, Name="main", S3KeyPrefix="other")
assert "S3KeyPrefix" not in ct.get_trail(Name="main")["Trail"]
fails("TrailNotFoundException", ct.update_trail, Name="nothere", EnableLogFileValidation=True)

# --- event selectors: the default, basic with S3 data events, advanced, and the errors
sel = ct.get_event_selectors(TrailName="main")
assert sel["TrailARN"] == ARN
assert sel["EventSelectors"] == [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                                  "DataResources": [], "ExcludeManagementEventSources": []}], sel
basic = [{"ReadWriteType": "All", "IncludeManagementEvents": True,
          "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{BUCKET}/"]}]}]
put = ct.put_event_selectors(TrailName="main", EventSelectors=basic)
assert put["EventSelectors"][0]["DataResources"] == basic[0]["DataResources"], put
assert ct.get_trail(Name="main")["Trail"]["HasCustomEventSelectors"] is True
fails("InvalidEventSelectorsException", ct.put_event_selectors, TrailName="main",
      EventSelectors=[{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["not-an-arn"]}]}])
advanced = [{"Name": "S3 data", "FieldSelectors": [
    {"Field": "eventCategory", "Equals": ["Data"]},
    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}]
ct.put_event_selectors(TrailName="main", AdvancedEventSelectors=advanced)
sel = ct.get_event_selectors(TrailName="main")
assert sel["AdvancedEventSelectors"] == advanced and "EventSelectors" not in sel, sel
fails("InvalidEventSelectorsException", ct.put_event_selectors, TrailName="main",
      AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}])
fails("InvalidParameterCombinationException", ct.put_event_selectors, TrailName="main",
      EventSelectors=basic, AdvancedEventSelectors=advanced)
fails("TrailNotFoundException", ct.put_event_selectors, TrailName="nothere", EventSelectors=basic)

# --- tags
ct.add_tags(ResourceId=ARN, TagsList=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "red"}])
tags = ct.list_tags(ResourceIdList=[ARN])["ResourceTagList"]
assert tags == [{"ResourceId": ARN, "TagsList": [{"Key": "team", "Value": "red"}, {"Key": "env", "Value": "prod"}]}], tags
ct.remove_tags(ResourceId=ARN, TagsList=[{"Key": "team"}])
assert ct.list_tags(ResourceIdList=[ARN])["ResourceTagList"][0]["TagsList"] == [{"Key": "env", "Value": "prod"}]
fails("CloudTrailARNInvalidException", ct.add_tags, ResourceId="main", TagsList=[{"Key": "k"}])
missing = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/nothere"
fails("ResourceNotFoundException", ct.list_tags, ResourceIdList=[missing])
fails("TagsLimitExceededException", ct.add_tags, ResourceId=ARN,
      TagsList=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])

# --- another tenant sees none of it and cannot touch it
assert other.list_trails()["Trails"] == []
assert other.describe_trails(trailNameList=[ARN])["trailList"] == []
fails("TrailNotFoundException", other.get_trail, Name=ARN)
fails("TrailNotFoundException", other.stop_logging, Name=ARN)
assert ct.get_trail_status(Name="main")["IsLogging"] is True

# --- nor can the operator: refused by the guardrail, and the tenant's log says so
operator = client("cloudtrail", OP_KEY, OP_SECRET)
fails("AccessDeniedException", operator.stop_logging, Name=ARN)
fails("AccessDeniedException", operator.delete_trail, Name=ARN)
assert ct.get_trail_status(Name="main")["IsLogging"] is True
seen = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "StopLogging"}])["Events"]
assert any(json.loads(e["CloudTrailEvent"]).get("errorCode") == "AccessDeniedException"
           and json.loads(e["CloudTrailEvent"])["userIdentity"]["accountId"] != ACCOUNT for e in seen), seen

# --- IAM decides: a user allowed only to read trails
iam.create_user(UserName="auditor")
iam.put_user_policy(UserName="auditor", PolicyName="read", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
        "cloudtrail:GetTrail", "cloudtrail:DescribeTrails", "cloudtrail:ListTrails",
        "cloudtrail:GetTrailStatus"]}]}))
ak = iam.create_access_key(UserName="auditor")["AccessKey"]
auditor = client("cloudtrail", ak["AccessKeyId"], ak["SecretAccessKey"])
assert auditor.get_trail(Name="main")["Trail"]["TrailARN"] == ARN
assert auditor.get_trail_status(Name="main")["IsLogging"] is True
fails("AccessDeniedException", auditor.stop_logging, Name="main")
fails("AccessDeniedException", auditor.delete_trail, Name="main")
fails("AccessDeniedException", auditor.get_event_selectors, TrailName="main")

# --- the quota: five trails a region
fails("InsufficientS3BucketPolicyException", ct.create_trail, Name="t2x", S3BucketName=BUCKET)
s3.put_bucket_policy(Bucket=BUCKET, Policy=cloudtrail_policy(BUCKET, trails="*"))
for i in range(2, 6):
    ct.create_trail(Name=f"t{i}x", S3BucketName=BUCKET)
fails("MaximumNumberOfTrailsExceededException", ct.create_trail, Name="t6x", S3BucketName=BUCKET)
assert len(ct.list_trails()["Trails"]) == 5

# --- delete
ct.delete_trail(Name="main")
fails("TrailNotFoundException", ct.delete_trail, Name="main")
fails("TrailNotFoundException", ct.get_trail_status, Name="main")
for i in range(2, 6):
    ct.delete_trail(Name=ARN.replace("trail/main", f"trail/t{i}x"))
assert ct.list_trails()["Trails"] == []

# --- every change is in the account's log, as a management write event
names = [e["EventName"] for e in ct.lookup_events(
    LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "cloudtrail.amazonaws.com"}],
    MaxResults=50)["Events"]]
for expected in ["CreateTrail", "StartLogging", "StopLogging", "UpdateTrail", "PutEventSelectors",
                 "AddTags", "RemoveTags", "DeleteTrail"]:
    assert expected in names, (expected, names)

# --- looked up by resource: type, ARN or name, each event naming the trail
for attr, value in [("ResourceType", "AWS::CloudTrail::Trail"), ("ResourceName", ARN),
                    ("ResourceName", "main")]:
    found = ct.lookup_events(LookupAttributes=[{"AttributeKey": attr, "AttributeValue": value}],
                             MaxResults=50)["Events"]
    got = {e["EventName"] for e in found}
    assert {"CreateTrail", "StartLogging", "DeleteTrail"} <= got, (attr, value, got)
    for e in found:
        assert {"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": ARN} in e["Resources"] or \
            attr == "ResourceType", e
assert ct.lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName",
                                            "AttributeValue": "no-such-trail"}])["Events"] == []

print("ok")
