#!/usr/bin/env python3
"""Reduce botocore's service models to crates/server/models/<service>.json.

Each output holds what the server's routers need to parse a request into a typed call, and no
more: per served operation its input shape; per shape reachable from those inputs its type,
members (with wire names and locations), required members, length and value bounds, and enum
values. Documentation, outputs, errors and patterns are dropped. The facts are AWS's (the
botocore package's `botocore/data/<service>/*/service-2.json`); the selection is ours.

Usage:
    pip install botocore==1.44.18
    python3 scripts/reduce-models.py            # writes crates/server/models/*.json
    python3 scripts/reduce-models.py --check    # exits 1 if a file differs from the output

The output depends only on the installed botocore: the same version gives the same bytes.
"""

import argparse
import json
import pathlib
import sys

import botocore
import botocore.session

FORMAT_VERSION = 1
OUT = pathlib.Path(__file__).resolve().parent.parent / "crates" / "server" / "models"

# The operations each service serves (its enum in crates/server/src/services/<service>/); a unit
# test checks that every served operation has its input shape here.
SERVED = {
    "iam": """AddUserToGroup AttachGroupPolicy AttachRolePolicy AttachUserPolicy CreateAccessKey
        CreateGroup CreatePolicy CreatePolicyVersion CreateRole CreateUser CreateVirtualMFADevice
        DeactivateMFADevice DeleteAccessKey DeleteGroup DeleteGroupPolicy DeletePolicy
        DeletePolicyVersion DeleteRole DeleteRolePermissionsBoundary DeleteRolePolicy DeleteUser
        DeleteUserPermissionsBoundary DeleteUserPolicy DeleteVirtualMFADevice DetachGroupPolicy
        DetachRolePolicy DetachUserPolicy EnableMFADevice GetAccessKeyLastUsed
        GetAccountAuthorizationDetails GetAccountSummary GetGroup GetGroupPolicy GetPolicy
        GetPolicyVersion GetRole GetRolePolicy GetUser GetUserPolicy ListAccessKeys
        ListAttachedGroupPolicies ListAttachedRolePolicies ListAttachedUserPolicies
        ListGroupPolicies ListGroups ListGroupsForUser ListMFADevices ListPolicies
        ListPolicyVersions ListRolePolicies ListRoleTags ListRoles ListUserPolicies ListUserTags
        ListUsers ListVirtualMFADevices PutGroupPolicy PutRolePermissionsBoundary PutRolePolicy
        PutUserPermissionsBoundary PutUserPolicy RemoveUserFromGroup ResyncMFADevice
        SetDefaultPolicyVersion SimulateCustomPolicy SimulatePrincipalPolicy TagRole TagUser
        UntagRole UntagUser UpdateAccessKey UpdateAssumeRolePolicy UpdateRole
        UpdateRoleDescription CreateInstanceProfile GetInstanceProfile DeleteInstanceProfile
        ListInstanceProfiles AddRoleToInstanceProfile RemoveRoleFromInstanceProfile
        ListInstanceProfilesForRole TagInstanceProfile UntagInstanceProfile ListInstanceProfileTags
        UpdateUser UpdateGroup TagPolicy UntagPolicy ListPolicyTags ListEntitiesForPolicy
        CreateAccountAlias DeleteAccountAlias ListAccountAliases UpdateAccountPasswordPolicy
        GetAccountPasswordPolicy DeleteAccountPasswordPolicy GetContextKeysForCustomPolicy
        GetContextKeysForPrincipalPolicy GetMFADevice""",
    "sts": """AssumeRole DecodeAuthorizationMessage GetAccessKeyInfo GetCallerIdentity
        GetSessionToken""",
    "kms": """CancelKeyDeletion CreateAlias CreateGrant CreateKey Decrypt DeleteAlias
        DeleteImportedKeyMaterial DescribeKey DisableKey DisableKeyRotation EnableKey
        EnableKeyRotation Encrypt GenerateDataKey GenerateDataKeyPair
        GenerateDataKeyPairWithoutPlaintext GenerateDataKeyWithoutPlaintext GenerateMac
        GenerateRandom GetKeyPolicy GetKeyRotationStatus GetParametersForImport GetPublicKey
        ImportKeyMaterial ListAliases ListGrants ListKeyPolicies ListKeyRotations ListKeys
        ListResourceTags ListRetirableGrants PutKeyPolicy ReEncrypt RetireGrant RevokeGrant
        RotateKeyOnDemand ScheduleKeyDeletion Sign TagResource UntagResource UpdateAlias
        UpdateKeyDescription Verify VerifyMac DeriveSharedSecret""",
    "cloudtrail": """LookupEvents CreateTrail UpdateTrail DeleteTrail GetTrail DescribeTrails
        ListTrails StartLogging StopLogging GetTrailStatus PutEventSelectors GetEventSelectors
        AddTags RemoveTags ListTags ListPublicKeys""",
    "accessanalyzer": "CheckAccessNotGranted CheckNoNewAccess CheckNoPublicAccess ValidatePolicy",
    "mpa": """CreateApprovalTeam GetApprovalTeam ListApprovalTeams ListIdentitySources
        GetIdentitySource ListPolicies TagResource UntagResource ListTagsForResource GetSession
        ListSessions CancelSession UpdateApprovalTeam StartActiveApprovalTeamDeletion
        DeleteInactiveApprovalTeamVersion StartApprovalTeamBaseline ListPolicyVersions
        GetPolicyVersion""",
}

SHAPE_KEYS = ("type", "required", "min", "max", "enum", "flattened")
MEMBER_KEYS = ("location", "locationName", "flattened")


def ref(member):
    out = {"shape": member["shape"]}
    out.update({k: member[k] for k in MEMBER_KEYS if k in member})
    return out


def reduce(service):
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    api_version = loader.determine_latest_version(service, "service-2")
    model = loader.load_service_model(service, "service-2", api_version)
    shapes_in = model["shapes"]
    operations = {}
    wanted = []
    for name in SERVED[service].split():
        op = model["operations"][name]
        entry = {"method": op["http"]["method"], "uri": op["http"]["requestUri"]}
        if "input" in op:
            entry["input"] = op["input"]["shape"]
            wanted.append(op["input"]["shape"])
        operations[name] = entry
    shapes = {}
    while wanted:
        name = wanted.pop()
        if name in shapes:
            continue
        src = shapes_in[name]
        out = {k: src[k] for k in SHAPE_KEYS if k in src}
        if src["type"] == "structure":
            out["members"] = {m: ref(v) for m, v in src["members"].items()}
            wanted.extend(v["shape"] for v in src["members"].values())
        elif src["type"] == "list":
            out["member"] = ref(src["member"])
            wanted.append(src["member"]["shape"])
        elif src["type"] == "map":
            out["key"] = ref(src["key"])
            out["value"] = ref(src["value"])
            wanted.extend([src["key"]["shape"], src["value"]["shape"]])
        shapes[name] = out
    return {
        "format": FORMAT_VERSION,
        "source": f"botocore {botocore.__version__}, {service} {api_version}",
        "protocol": model["metadata"]["protocol"],
        "operations": operations,
        "shapes": dict(sorted(shapes.items())),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    differ = False
    for service in SERVED:
        text = json.dumps(reduce(service), indent=1, sort_keys=False) + "\n"
        path = OUT / f"{service}.json"
        if args.check:
            if not path.exists() or path.read_text() != text:
                print(f"{path} differs from botocore {botocore.__version__}'s model")
                differ = True
        else:
            path.write_text(text)
            print(f"wrote {path} ({len(text)} bytes)")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
