"""IAM policy evaluation: a table of real-looking policies and requests, one rule or operator per row,
plus the grammar checker's answers for what the evaluator cannot read.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from openrek.security.policy_evaluation import (
    AuthorizationRequest,
    Effect,
    Policy,
    PolicyDocumentError,
    PolicyKind,
    evaluate,
    request_context,
)

A, B = "111122223333", "444455556666"  # A owns the resources; B is another account
ALICE = f"arn:aws:iam::{A}:user/alice"
BOB_B = f"arn:aws:iam::{B}:user/team/bob"
PROJECT = f"arn:aws:rekognition:us-east-1:{A}:project/p/1700000000000"
VERSION = f"arn:aws:rekognition:us-east-1:{A}:project/p/version/v1/1700000000001"
OTHER_VERSION = f"arn:aws:rekognition:us-east-1:{A}:project/q/version/v1/1700000000002"
OBJECT = "arn:aws:s3:::training-data/images/cat.jpg"

ALLOW, EXPLICIT, IMPLICIT = Effect.ALLOW, Effect.EXPLICIT_DENY, Effect.IMPLICIT_DENY


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    out: dict[str, Any] = {"Statement": list(statements)}
    if version:
        out["Version"] = version
    return out


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def grant(principal: Any, action: Any, resource: Any = None, effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    st = {"Effect": effect, "Principal": principal, "Action": action, **extra}
    if resource is not None:
        st["Resource"] = resource
    return st


def request(action: str = "rekognition:CreateProjectVersion", resource: str = PROJECT, principal: str = ALICE,
            account: str = A, *, root: bool = False, owner: str = A, **keys: Any) -> AuthorizationRequest:
    return AuthorizationRequest(principal, account, root, action, resource, owner,
                                {_key(k): v for k, v in keys.items()})


def _key(name: str) -> str:
    """aws_RequestTag__team -> aws:RequestTag/team, s3_max_keys -> s3:max-keys."""
    return name.replace("__", "/").replace("_", ":", 1).replace("_", "-")


def decide(req: AuthorizationRequest, identity: list[dict[str, Any]] = (), resource: list[dict[str, Any]] = ()):
    ids = [Policy.parse(f"identity-{i}", json.dumps(d), PolicyKind.IDENTITY) for i, d in enumerate(identity)]
    res = [Policy.parse(f"resource-{i}", d, PolicyKind.RESOURCE) for i, d in enumerate(resource)]
    return evaluate(req, ids, res)


# --- the table: (id, identity policies, resource policies, request, effect, deciding Sid or None) ----------

COPY_POLICY = doc(grant({"AWS": f"arn:aws:iam::{B}:root"}, "rekognition:CopyProjectVersion",
                        f"arn:aws:rekognition:us-east-1:{A}:project/p/version/*/*", Sid="AllowCopyFromB"))
BUCKET_POLICY = doc(
    grant("*", "s3:*", ["arn:aws:s3:::training-data", "arn:aws:s3:::training-data/*"], "Deny", Sid="HttpsOnly",
          Condition={"Bool": {"aws:SecureTransport": "false"}}),
    grant({"AWS": ALICE}, ["s3:GetObject", "s3:ListBucket"], "arn:aws:s3:::training-data/*", Sid="OfficeReads",
          Condition={"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}),
)
TAGGING = doc(
    allow("rekognition:CreateProject", Sid="CreateTagged",
          Condition={"StringEquals": {"aws:RequestTag/team": "vision"},
                     "ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}}),
    allow(["rekognition:DeleteProject", "rekognition:TagResource"], Sid="OwnProjects",
          Condition={"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}}),
)
REQUIRE_TEAM_TAG = doc(
    allow("rekognition:*", Sid="All"),
    deny("rekognition:CreateProject", Sid="TeamTagRequired", Condition={"Null": {"aws:RequestTag/team": "true"}}),
)

CASES: list[tuple[str, list, list, AuthorizationRequest, Effect, str | None]] = [
    # default deny, allow, explicit deny
    ("no policies: implicit deny", [], [], request(), IMPLICIT, None),
    ("exact action allowed", [doc(allow("rekognition:CreateProjectVersion", PROJECT, Sid="Train"))], [],
     request(), ALLOW, "Train"),
    ("other action not allowed", [doc(allow("rekognition:CreateProjectVersion", PROJECT))], [],
     request("rekognition:DeleteProject"), IMPLICIT, None),
    ("explicit deny beats allow, same policy", [doc(allow("rekognition:*", Sid="All"),
                                                    deny("rekognition:Delete*", Sid="NoDeletes"))], [],
     request("rekognition:DeleteProject"), EXPLICIT, "NoDeletes"),
    ("explicit deny beats allow, other policy", [doc(allow("*")), doc(deny("rekognition:CreateProjectVersion",
                                                                          Sid="Freeze"))], [],
     request(), EXPLICIT, "Freeze"),
    ("resource-policy deny beats identity allow", [doc(allow("*"))],
     [doc(grant({"AWS": A}, "rekognition:*", effect="Deny", Sid="Lock"))], request(), EXPLICIT, "Lock"),
    # NotAction / NotResource
    ("NotAction allows everything else", [doc({"Effect": "Allow", "NotAction": "rekognition:Delete*",
                                               "Resource": "*", "Sid": "NoDelete"})], [],
     request("rekognition:DescribeProjects"), ALLOW, "NoDelete"),
    ("NotAction leaves the listed out", [doc({"Effect": "Allow", "NotAction": ["rekognition:Delete*"],
                                              "Resource": "*"})], [],
     request("rekognition:DeleteProjectVersion"), IMPLICIT, None),
    ("Deny NotAction: all but s3:Get* denied", [doc(allow("*"), {"Effect": "Deny", "NotAction": "s3:Get*",
                                                                 "Resource": "arn:aws:s3:::*", "Sid": "ReadOnlyS3"})],
     [], request("s3:PutObject", OBJECT), EXPLICIT, "ReadOnlyS3"),
    ("Deny NotAction: s3:GetObject passes", [doc(allow("*"), {"Effect": "Deny", "NotAction": "s3:Get*",
                                                              "Resource": "arn:aws:s3:::*"})],
     [], request("s3:GetObject", OBJECT), ALLOW, None),
    ("NotResource", [doc({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secrets/*"})], [],
     request("s3:GetObject", "arn:aws:s3:::secrets/key"), IMPLICIT, None),
    ("NotResource: elsewhere allowed", [doc({"Effect": "Allow", "Action": "s3:*",
                                             "NotResource": "arn:aws:s3:::secrets/*"})], [],
     request("s3:GetObject", OBJECT), ALLOW, None),
    # wildcards
    ("service prefix rekognition:*", [doc(allow("rekognition:*"))], [], request(), ALLOW, None),
    ("action *", [doc(allow("*"))], [], request("s3:DeleteBucket", "arn:aws:s3:::b"), ALLOW, None),
    ("s3:Get* matches GetObject", [doc(allow("s3:Get*", "arn:aws:s3:::training-data/*"))], [],
     request("s3:GetObject", OBJECT), ALLOW, None),
    ("s3:Get* does not match PutObject", [doc(allow("s3:Get*"))], [], request("s3:PutObject", OBJECT), IMPLICIT,
     None),
    ("? matches one character", [doc(allow("rekognition:DetectCustom?abels"))], [],
     request("rekognition:DetectCustomLabels"), ALLOW, None),
    ("actions are case-insensitive", [doc(allow("Rekognition:createprojectVERSION"))], [], request(), ALLOW,
     None),
    ("resources are case-sensitive", [doc(allow("s3:GetObject", "arn:aws:s3:::Training-Data/*"))], [],
     request("s3:GetObject", OBJECT), IMPLICIT, None),
    ("resource wildcard in the region and the path", [doc(allow("rekognition:*",
                                                                f"arn:aws:rekognition:*:{A}:project/p/*"))], [],
     request("rekognition:DescribeProjectVersions", VERSION), ALLOW, None),
    ("resource wildcard does not leave its ARN part", [doc(allow("iam:*", "arn:aws:iam::*:root"))], [],
     request("iam:GetUser", f"arn:aws:iam::{A}:user/ops:root"), IMPLICIT, None),
    ("a pattern short of six ARN parts is one glob", [doc(allow("rekognition:*", "arn:aws:rekognition:us-east-*"))],
     [], request(), ALLOW, None),
    ("resource list: any one matches", [doc(allow("s3:GetObject", ["arn:aws:s3:::a/*", "arn:aws:s3:::training-*"
                                                                   "/images/*"]))], [],
     request("s3:GetObject", OBJECT), ALLOW, None),
    # the root
    ("root of the resource account: allowed without policies", [], [], request(principal=f"arn:aws:iam::{A}:root",
                                                                               root=True), ALLOW, None),
    ("root of the resource account: even over a resource-policy deny", [],
     [doc(grant("*", "*", effect="Deny"))], request(principal=f"arn:aws:iam::{A}:root", root=True), ALLOW, None),
    # same account with resource policies
    ("same account: resource policy naming the user is enough", [],
     [doc(grant({"AWS": ALICE}, "rekognition:CreateProjectVersion", Sid="Alice"))], request(), ALLOW, "Alice"),
    ("same account: resource policy naming \"*\" is enough", [],
     [doc(grant("*", "rekognition:CreateProjectVersion", Sid="Public"))], request(), ALLOW, "Public"),
    ("same account: naming only the account delegates to IAM", [],
     [doc(grant({"AWS": f"arn:aws:iam::{A}:root"}, "rekognition:*"))], request(), IMPLICIT, None),
    ("same account: resource policy naming someone else", [],
     [doc(grant({"AWS": [f"arn:aws:iam::{A}:user/carol"]}, "rekognition:*"))], request(), IMPLICIT, None),
    # cross-account needs both sides
    ("cross-account: identity allow alone is not enough", [doc(allow("rekognition:*"))], [],
     request(principal=BOB_B, account=B), IMPLICIT, None),
    ("cross-account: resource allow alone is not enough", [],
     [doc(grant({"AWS": BOB_B}, "rekognition:*"))], request(principal=BOB_B, account=B), IMPLICIT, None),
    ("cross-account: both sides, by user ARN", [doc(allow("rekognition:CreateProjectVersion", Sid="Mine"))],
     [doc(grant({"AWS": BOB_B}, "rekognition:CreateProjectVersion", Sid="Bob"))],
     request(principal=BOB_B, account=B), ALLOW, "Mine"),
    ("cross-account: both sides, by bare account id", [doc(allow("rekognition:*"))],
     [doc(grant({"AWS": [B]}, "rekognition:*"))], request(principal=BOB_B, account=B), ALLOW, None),
    ("cross-account: both sides, by \"*\"", [doc(allow("rekognition:*"))], [doc(grant({"AWS": "*"}, "*"))],
     request(principal=BOB_B, account=B), ALLOW, None),
    ("cross-account: the caller account's root counts as allowed", [],
     [doc(grant({"AWS": f"arn:aws:iam::{B}:root"}, "rekognition:*"))],
     request(principal=f"arn:aws:iam::{B}:root", account=B, root=True), ALLOW, None),
    ("cross-account: the caller's root still needs the resource side", [], [],
     request(principal=f"arn:aws:iam::{B}:root", account=B, root=True), IMPLICIT, None),
    ("cross-account: a third account is not named", [doc(allow("*"))], [COPY_POLICY],
     request("rekognition:CopyProjectVersion", VERSION, "arn:aws:iam::999999999999:user/eve", "999999999999"),
     IMPLICIT, None),
    # a project policy lets account B copy versions of A's project p
    ("CopyProjectVersion from B allowed", [doc(allow("rekognition:CopyProjectVersion"))], [COPY_POLICY],
     request("rekognition:CopyProjectVersion", VERSION, BOB_B, B), ALLOW, None),
    ("CopyProjectVersion of another project", [doc(allow("rekognition:CopyProjectVersion"))], [COPY_POLICY],
     request("rekognition:CopyProjectVersion", OTHER_VERSION, BOB_B, B), IMPLICIT, None),
    ("project policy grants only CopyProjectVersion", [doc(allow("rekognition:*"))], [COPY_POLICY],
     request("rekognition:DeleteProjectVersion", VERSION, BOB_B, B), IMPLICIT, None),
    ("project policy without Resource: the project itself", [doc(allow("rekognition:CopyProjectVersion"))],
     [doc(grant({"AWS": B}, "rekognition:CopyProjectVersion"))],
     request("rekognition:CopyProjectVersion", VERSION, BOB_B, B), ALLOW, None),
    # S3 bucket policy with aws:SecureTransport and aws:SourceIp
    ("bucket policy: HTTPS from the office", [], [BUCKET_POLICY],
     request("s3:GetObject", OBJECT, aws_SecureTransport="true", aws_SourceIp="203.0.113.7"), ALLOW, "OfficeReads"),
    ("bucket policy: IPv6 office range", [], [BUCKET_POLICY],
     request("s3:GetObject", OBJECT, aws_SecureTransport="true", aws_SourceIp="2001:db8::5"), ALLOW, None),
    ("bucket policy: from elsewhere", [], [BUCKET_POLICY],
     request("s3:GetObject", OBJECT, aws_SecureTransport="true", aws_SourceIp="198.51.100.1"), IMPLICIT, None),
    ("bucket policy: plain HTTP is denied", [doc(allow("s3:*"))], [BUCKET_POLICY],
     request("s3:GetObject", OBJECT, aws_SecureTransport="false", aws_SourceIp="203.0.113.7"), EXPLICIT,
     "HttpsOnly"),
    ("bucket policy: NotIpAddress deny", [doc(allow("s3:*"))],
     [doc(grant("*", "s3:*", "arn:aws:s3:::training-data/*", "Deny", Sid="OfficeOnly",
                Condition={"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))],
     request("s3:PutObject", OBJECT, aws_SourceIp="198.51.100.1"), EXPLICIT, "OfficeOnly"),
    # tags
    ("RequestTag and TagKeys match", [TAGGING], [],
     request("rekognition:CreateProject", aws_RequestTag__team="vision", aws_TagKeys=["team"]), ALLOW,
     "CreateTagged"),
    ("RequestTag has the wrong value", [TAGGING], [],
     request("rekognition:CreateProject", aws_RequestTag__team="nlp", aws_TagKeys=["team"]), IMPLICIT, None),
    ("ForAllValues: a tag key outside the list", [TAGGING], [],
     request("rekognition:CreateProject", aws_RequestTag__team="vision", aws_TagKeys=["team", "cost"]), IMPLICIT,
     None),
    ("ResourceTag equals ${aws:username}", [TAGGING], [],
     request("rekognition:DeleteProject", aws_ResourceTag__owner="alice"), ALLOW, "OwnProjects"),
    ("ResourceTag of someone else", [TAGGING], [],
     request("rekognition:DeleteProject", aws_ResourceTag__owner="carol"), IMPLICIT, None),
    ("Null: a request without the tag is denied", [REQUIRE_TEAM_TAG], [],
     request("rekognition:CreateProject"), EXPLICIT, "TeamTagRequired"),
    ("Null: a request with the tag passes", [REQUIRE_TEAM_TAG], [],
     request("rekognition:CreateProject", aws_RequestTag__team="vision"), ALLOW, "All"),
    ("Null false: the key must be there", [doc(allow("s3:*", Condition={"Null": {"aws:SourceVpce": "false"}}))],
     [], request("s3:GetObject", OBJECT), IMPLICIT, None),
    # IfExists, set qualifiers and empty sets
    ("IfExists: absent key passes", [doc(allow("rekognition:CreateProject", Condition={
        "StringEqualsIfExists": {"aws:RequestTag/env": ["dev", "test"]}}))], [],
     request("rekognition:CreateProject"), ALLOW, None),
    ("IfExists: present key is checked", [doc(allow("rekognition:CreateProject", Condition={
        "StringEqualsIfExists": {"aws:RequestTag/env": ["dev", "test"]}}))], [],
     request("rekognition:CreateProject", aws_RequestTag__env="prod"), IMPLICIT, None),
    ("without IfExists an absent key fails", [doc(allow("rekognition:CreateProject", Condition={
        "StringEquals": {"aws:RequestTag/env": ["dev", "test"]}}))], [],
     request("rekognition:CreateProject"), IMPLICIT, None),
    ("ForAllValues with an empty set is true", [doc(allow("rekognition:TagResource", Condition={
        "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}))], [],
     request("rekognition:TagResource", aws_TagKeys=[]), ALLOW, None),
    ("ForAllValues with no key at all is true", [doc(allow("rekognition:TagResource", Condition={
        "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}))], [],
     request("rekognition:TagResource"), ALLOW, None),
    ("ForAnyValue with an empty set is false", [doc(allow("rekognition:TagResource", Condition={
        "ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}))], [],
     request("rekognition:TagResource", aws_TagKeys=[]), IMPLICIT, None),
    ("ForAnyValue: one of the values", [doc(allow("rekognition:TagResource", Condition={
        "ForAnyValue:StringLike": {"aws:TagKeys": ["cost*"]}}))], [],
     request("rekognition:TagResource", aws_TagKeys=["team", "costcenter"]), ALLOW, None),
    ("ForAllValues:StringNotEquals: none may be reserved", [doc(allow("rekognition:TagResource", Condition={
        "ForAllValues:StringNotEquals": {"aws:TagKeys": ["owner", "billing"]}}))], [],
     request("rekognition:TagResource", aws_TagKeys=["team", "owner"]), IMPLICIT, None),
    # several values OR, several keys and operators AND, key names case-insensitive
    ("values of one key: OR", [doc(allow("s3:*", Condition={"StringEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"]}}))],
     [], request("s3:GetObject", OBJECT, aws_SourceVpce="vpce-2"), ALLOW, None),
    ("keys and operators: AND", [doc(allow("s3:*", Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"},
                                                             "Bool": {"aws:SecureTransport": True}}))],
     [], request("s3:GetObject", OBJECT, aws_SourceVpce="vpce-1", aws_SecureTransport="false"), IMPLICIT, None),
    ("condition key names are case-insensitive", [doc(allow("s3:*", Condition={
        "IpAddress": {"AWS:SOURCEIP": "10.0.0.0/8"}}))], [], request("s3:GetObject", OBJECT, aws_sourceip="10.1.2.3"),
     ALLOW, None),
    ("negated operator: absent key holds", [doc(allow("s3:*", Condition={
        "StringNotEquals": {"aws:SourceVpce": "vpce-bad"}}))], [], request("s3:GetObject", OBJECT), ALLOW, None),
    ("StringNotEquals: none of the values", [doc(allow("s3:*", Condition={
        "StringNotEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"]}}))], [],
     request("s3:GetObject", OBJECT, aws_SourceVpce="vpce-2"), IMPLICIT, None),
    # the other operators
    ("StringEqualsIgnoreCase", [doc(allow("*", Condition={"StringEqualsIgnoreCase": {"aws:RequestTag/env": "PROD"}}))],
     [], request(aws_RequestTag__env="prod"), ALLOW, None),
    ("StringEquals is case-sensitive", [doc(allow("*", Condition={"StringEquals": {"aws:RequestTag/env": "PROD"}}))],
     [], request(aws_RequestTag__env="prod"), IMPLICIT, None),
    ("StringNotEqualsIgnoreCase", [doc(allow("*", Condition={
        "StringNotEqualsIgnoreCase": {"aws:RequestTag/env": "PROD"}}))], [], request(aws_RequestTag__env="Prod"),
     IMPLICIT, None),
    ("StringNotLike", [doc(allow("*", Condition={"StringNotLike": {"s3:prefix": "private/*"}}))], [],
     request("s3:ListBucket", "arn:aws:s3:::training-data", s3_prefix="images/"), ALLOW, None),
    ("ArnLike on aws:SourceArn", [doc(allow("*", Condition={
        "ArnLike": {"aws:SourceArn": f"arn:aws:rekognition:*:{A}:project/*"}}))], [],
     request(aws_SourceArn=PROJECT), ALLOW, None),
    ("ArnEquals: another account", [doc(allow("*", Condition={"ArnEquals": {"aws:SourceArn": PROJECT}}))], [],
     request(aws_SourceArn=PROJECT.replace(A, B)), IMPLICIT, None),
    ("ArnNotLike", [doc(allow("*", Condition={"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:user/temp-*"}}))],
     [], request(), ALLOW, None),
    ("ArnNotEquals on the principal", [doc(allow("*", Condition={"ArnNotEquals": {"aws:PrincipalArn": ALICE}}))],
     [], request(), IMPLICIT, None),
    ("NumericLessThan", [doc(allow("*", Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": 3600}}))], [],
     request(aws_MultiFactorAuthAge="120"), ALLOW, None),
    ("NumericGreaterThanEquals", [doc(allow("*", Condition={"NumericGreaterThanEquals": {"s3:max-keys": "10"}}))],
     [], request(s3_max_keys="9"), IMPLICIT, None),
    ("NumericEquals with a non-number", [doc(allow("*", Condition={"NumericEquals": {"s3:max-keys": "10"}}))], [],
     request(s3_max_keys="ten"), IMPLICIT, None),
    ("NumericNotEquals", [doc(allow("*", Condition={"NumericNotEquals": {"s3:max-keys": ["10", "20"]}}))], [],
     request(s3_max_keys="15"), ALLOW, None),
    ("DateLessThan, ISO 8601", [doc(allow("*", Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}))],
     [], request(aws_CurrentTime="2029-12-31T23:59:59Z"), ALLOW, None),
    ("DateGreaterThan, epoch", [doc(allow("*", Condition={"DateGreaterThan": {"aws:EpochTime": 1893456000}}))], [],
     request(aws_EpochTime="1700000000"), IMPLICIT, None),
    ("DateEquals, ISO against epoch", [doc(allow("*", Condition={"DateEquals": {"aws:CurrentTime": "2024-01-01"}}))],
     [], request(aws_CurrentTime="1704067200"), ALLOW, None),
    ("Bool true", [doc(allow("*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))], [],
     request(aws_MultiFactorAuthPresent="True"), ALLOW, None),
    # policy variables
    ("${aws:username} in Resource", [doc(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*"))], [],
     request("s3:PutObject", "arn:aws:s3:::home/alice/notes.txt"), ALLOW, None),
    ("${aws:username}: another user's folder", [doc(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*"))], [],
     request("s3:PutObject", "arn:aws:s3:::home/bob/notes.txt"), IMPLICIT, None),
    ("${aws:PrincipalAccount} in Resource", [doc(allow("rekognition:*",
                                                       "arn:aws:rekognition:*:${aws:PrincipalAccount}:project/*"))],
     [], request(), ALLOW, None),
    ("${aws:PrincipalAccount} in a condition", [],
     [doc(grant("*", "rekognition:*", Condition={"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}}))],
     request(), ALLOW, None),
    ("a variable the request lacks matches nothing", [doc(allow("s3:*", "arn:aws:s3:::home/${aws:userid}/*"))], [],
     request("s3:PutObject", "arn:aws:s3:::home/alice/notes.txt"), IMPLICIT, None),
    ("a variable with a default", [doc(allow("s3:*", "arn:aws:s3:::home/${aws:userid, 'shared'}/*"))], [],
     request("s3:PutObject", "arn:aws:s3:::home/shared/notes.txt"), ALLOW, None),
    ("a substituted value is not a wildcard", [doc(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*"))], [],
     request("s3:PutObject", "arn:aws:s3:::home/alice/x", f"arn:aws:iam::{A}:user/*"), IMPLICIT, None),
    ("Version 2008-10-17: ${…} is literal", [doc(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*"),
                                                 version="2008-10-17")], [],
     request("s3:PutObject", "arn:aws:s3:::home/alice/notes.txt"), IMPLICIT, None),
    ("${*} is a literal star", [doc(allow("s3:*", "arn:aws:s3:::odd/${*}"))], [],
     request("s3:GetObject", "arn:aws:s3:::odd/anything"), IMPLICIT, None),
    # NotPrincipal
    ("NotPrincipal deny: everyone but the admin", [doc(allow("*"))],
     [doc({"Effect": "Deny", "NotPrincipal": {"AWS": [f"arn:aws:iam::{A}:user/admin"]}, "Action": "s3:Delete*",
           "Sid": "OnlyAdminDeletes"})], request("s3:DeleteObject", OBJECT), EXPLICIT, "OnlyAdminDeletes"),
    ("NotPrincipal deny: the admin passes", [doc(allow("*"))],
     [doc({"Effect": "Deny", "NotPrincipal": {"AWS": [f"arn:aws:iam::{A}:user/admin"]}, "Action": "s3:Delete*"})],
     request("s3:DeleteObject", OBJECT, f"arn:aws:iam::{A}:user/admin"), ALLOW, None),
]


@pytest.mark.parametrize("identity, resource, req, effect, sid", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_table(identity, resource, req, effect, sid) -> None:
    decision = decide(req, identity, resource)
    assert decision.effect is effect, decision.detail
    if sid is not None:
        assert decision.statement is not None and decision.statement.sid == sid, decision.detail


def test_explicit_deny_message_names_the_policy_kind() -> None:
    d = decide(request("rekognition:DeleteProject"), [doc(deny("rekognition:Delete*", Sid="NoDeletes"))])
    assert d.message == (f"User: {ALICE} is not authorized to perform: rekognition:DeleteProject on resource: "
                         f"{PROJECT} with an explicit deny in an identity-based policy")
    assert 'statement "NoDeletes" of identity-based policy "identity-0"' in d.detail
    d = decide(request(), [doc(allow("*"))], [doc(grant("*", "*", effect="Deny"))])
    assert d.message.endswith("with an explicit deny in a resource-based policy")
    assert d.statement is not None and d.statement.kind is PolicyKind.RESOURCE and d.statement.index == 0


def test_implicit_deny_messages_say_which_side_is_missing() -> None:
    d = decide(request())
    assert d.message == (f"User: {ALICE} is not authorized to perform: rekognition:CreateProjectVersion on "
                         f"resource: {PROJECT} because no identity-based policy allows the "
                         "rekognition:CreateProjectVersion action")
    d = decide(request(principal=BOB_B, account=B), [doc(allow("*"))])
    assert d.missing is PolicyKind.RESOURCE
    assert d.message.endswith("because no resource-based policy allows the rekognition:CreateProjectVersion action")


def test_cross_account_allow_reports_both_sides() -> None:
    d = decide(request("rekognition:CopyProjectVersion", VERSION, BOB_B, B),
               [doc(allow("rekognition:CopyProjectVersion", Sid="CopyIn"))], [COPY_POLICY])
    assert d.allowed and [s.sid for s in d.statements] == ["CopyIn", "AllowCopyFromB"]
    assert [s.kind for s in d.statements] == [PolicyKind.IDENTITY, PolicyKind.RESOURCE]
    root = decide(request(principal=f"arn:aws:iam::{A}:root", root=True))
    assert root.allowed and root.by_root and root.statements == ()


def test_unknown_operator_statement_matches_nothing() -> None:
    bad = doc(allow("*", Condition={"StringEqualsSometimes": {"aws:SourceVpce": "x"}}),
              deny("s3:*", Condition={"NoSuchOperator": {"aws:SourceVpce": "x"}}))
    with pytest.raises(PolicyDocumentError, match="StringEqualsSometimes"):
        Policy.parse("bad", bad, PolicyKind.IDENTITY)
    lenient = Policy.parse("bad", bad, PolicyKind.IDENTITY, strict=False)
    assert evaluate(request(aws_SourceVpce="x"), [lenient]).effect is IMPLICIT
    good = Policy.parse("good", doc(allow("*")), PolicyKind.IDENTITY)
    assert evaluate(request("s3:GetObject", OBJECT), [lenient, good]).effect is ALLOW  # the bad Deny denies nothing
    assert Policy.parse("junk", "not json", PolicyKind.RESOURCE, strict=False).statements == ()


@pytest.mark.parametrize("document, kind, fragment", [
    (doc(grant("*", "s3:*", "*")), PolicyKind.IDENTITY, "names none"),
    (doc({"Effect": "Allow", "Action": "s3:*"}), PolicyKind.IDENTITY, "needs a Resource"),
    (doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}), PolicyKind.RESOURCE, "Principal or NotPrincipal"),
    (doc(allow("*", Condition={"NullIfExists": {"k": "true"}})), PolicyKind.IDENTITY, "Null takes neither"),
    (doc(allow("*", Condition={"ForSomeValues:StringEquals": {"k": "v"}})), PolicyKind.IDENTITY, "set qualifier"),
    (doc(allow("*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}})), PolicyKind.IDENTITY, "CIDR"),
    (doc(allow("*", Condition={"NumericLessThan": {"k": "many"}})), PolicyKind.IDENTITY, "not a number"),
    (doc(allow("*", Condition={"DateLessThan": {"k": "soon"}})), PolicyKind.IDENTITY, "ISO 8601"),
    (doc(allow("*", Condition={"Bool": {"k": "yes"}})), PolicyKind.IDENTITY, "Bool takes"),
    (doc(allow("*", Condition={"StringEquals": {"k": {"nested": 1}}})), PolicyKind.IDENTITY, "strings, numbers"),
    (doc(allow("*", Condition={"StringEquals": "k"})), PolicyKind.IDENTITY, "must be an object"),
    (doc(allow("*", Condition=[])), PolicyKind.IDENTITY, "must map operators"),
])
def test_grammar_rejects(document, kind, fragment) -> None:
    with pytest.raises(PolicyDocumentError, match=fragment):
        Policy.parse("p", json.dumps(document), kind)


def test_project_policy_checker_rejects_unknown_operators_at_its_old_import_path() -> None:
    from openrek.service.rekognition.policies import check_policy_document

    ok = json.dumps(COPY_POLICY)
    assert check_policy_document(ok)["Statement"][0]["Sid"] == "AllowCopyFromB"
    with pytest.raises(PolicyDocumentError, match="is not a condition operator"):
        check_policy_document(json.dumps(doc(grant("*", "*", Condition={"StringMaybe": {"k": "v"}}))))


def test_request_context_derives_principal_keys() -> None:
    ctx = request_context(request(aws_username="mallory", aws_SecureTransport=True))
    assert ctx["aws:username"] == ("alice",) and ctx["aws:principalaccount"] == (A,)
    assert ctx["aws:principaltype"] == ("User",) and ctx["aws:securetransport"] == ("true",)
    root_ctx = request_context(replace(request(principal=f"arn:aws:iam::{A}:root", root=True), condition_keys={
        "aws:username": "x"}))
    assert "aws:username" not in root_ctx and root_ctx["aws:principaltype"] == ("Account",)


# --- key policies: KMS's own rule ------------------------------------------------------------------------

KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DEFAULT_KEY_POLICY = doc(grant({"AWS": f"arn:aws:iam::{A}:root"}, "kms:*", "*", Sid="Enable IAM User Permissions"))
KEY_POLICY_CASES = [
    # (id, identity, key policy, request, effect, missing kind)
    ("default-policy-user-with-iam-allow", [doc(allow("kms:Decrypt", KEY))], DEFAULT_KEY_POLICY,
     request("kms:Decrypt", KEY), ALLOW, None),
    ("default-policy-user-without-iam", [], DEFAULT_KEY_POLICY, request("kms:Decrypt", KEY), IMPLICIT,
     PolicyKind.IDENTITY),
    ("default-policy-root", [], DEFAULT_KEY_POLICY,
     request("kms:Decrypt", KEY, f"arn:aws:iam::{A}:root", root=True), ALLOW, None),
    ("user-named-in-key-policy-needs-no-iam", [], doc(grant({"AWS": ALICE}, "kms:Decrypt", "*")),
     request("kms:Decrypt", KEY), ALLOW, None),
    ("key-policy-without-the-account-locks-out-root", [], doc(grant({"AWS": ALICE}, "kms:*", "*")),
     request("kms:DescribeKey", KEY, f"arn:aws:iam::{A}:root", root=True), IMPLICIT, PolicyKind.RESOURCE),
    ("key-policy-without-the-account-ignores-iam", [doc(allow("kms:*"))],
     doc(grant({"AWS": f"arn:aws:iam::{A}:user/carol"}, "kms:*", "*")), request("kms:Decrypt", KEY),
     IMPLICIT, PolicyKind.RESOURCE),
    ("explicit-deny-in-key-policy-beats-iam", [doc(allow("kms:*"))],
     doc(*DEFAULT_KEY_POLICY["Statement"], grant({"AWS": ALICE}, "kms:Decrypt", "*", "Deny")),
     request("kms:Decrypt", KEY), EXPLICIT, None),
    ("explicit-deny-in-iam-beats-key-policy", [doc(deny("kms:Decrypt"))], doc(grant({"AWS": ALICE}, "kms:*", "*")),
     request("kms:Decrypt", KEY), EXPLICIT, None),
    ("other-account-needs-key-policy-and-iam", [doc(allow("kms:Decrypt"))],
     doc(grant({"AWS": B}, "kms:Decrypt", "*")), request("kms:Decrypt", KEY, BOB_B, B), ALLOW, None),
    ("other-account-without-iam", [], doc(grant({"AWS": B}, "kms:Decrypt", "*")),
     request("kms:Decrypt", KEY, BOB_B, B), IMPLICIT, PolicyKind.IDENTITY),
    ("other-account-without-key-policy", [doc(allow("kms:Decrypt"))], DEFAULT_KEY_POLICY,
     request("kms:Decrypt", KEY, BOB_B, B), IMPLICIT, PolicyKind.RESOURCE),
]


@pytest.mark.parametrize(("identity", "key_policy", "req", "effect", "missing"),
                         [c[1:] for c in KEY_POLICY_CASES], ids=[c[0] for c in KEY_POLICY_CASES])
def test_key_policies(identity: list[dict[str, Any]], key_policy: dict[str, Any], req: AuthorizationRequest,
                      effect: Effect, missing: PolicyKind | None) -> None:
    from openrek.security.policy_evaluation import evaluate_key_policy

    ids = [Policy.parse(f"identity-{i}", json.dumps(d), PolicyKind.IDENTITY) for i, d in enumerate(identity)]
    decision = evaluate_key_policy(req, ids, [Policy.parse("key policy", json.dumps(key_policy), PolicyKind.RESOURCE)])
    assert decision.effect is effect, decision.detail
    if effect is IMPLICIT:
        assert decision.missing is missing and req.action in decision.message
