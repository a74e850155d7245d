"""The IAM provider: users, access keys, inline user policies, customer managed policies and attachments,
all within the caller's account. Methods take the caller and botocore-shaped parameters and return the
output shape's members; AWS's rules and messages live here, storage in store/iam_records.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from openrek.security.identities import Caller, new_key_pair
from openrek.security.policy_document import PolicyDocumentError, PolicyKind, check_policy_document
from openrek.service.caller_registry import Handler, bind_operations, operation
from openrek.service.iam.base import IamBase, key_metadata, now_ms, page, timestamp, user_shape
from openrek.service.iam.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchEntity,
)
from openrek.service.iam.principals import policy_arn, root_arn, unique_id, user_arn
from openrek.store.errors import DuplicateError
from openrek.store.metadata import MetadataStore
from openrek.store.schema import AccessKeyRow, IamManagedPolicyRow, IamUserRow

ACCESS_KEYS_PER_USER = 2
POLICIES_PER_USER = 10
DEFAULT_VERSION = "v1"


def _document(text: str) -> str:
    """The document as given, if it keeps the identity-based grammar."""
    try:
        check_policy_document(text, PolicyKind.IDENTITY)
    except PolicyDocumentError as exc:
        raise MalformedPolicyDocument(str(exc)) from None
    return text


def _quoted(document: str) -> str:
    """IAM returns policy documents URL-encoded (botocore decodes `policyDocumentType` members)."""
    return quote(document, safe="")


class IamProvider(IamBase):
    def __init__(self, metadata: MetadataStore) -> None:
        super().__init__(metadata)
        self.operations: dict[str, Handler] = bind_operations(self)

    # -- users ----------------------------------------------------------------------------------------------
    @operation("CreateUser")
    def create_user(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        name, path = params["UserName"], params.get("Path", "/")
        self.authorize(caller, "CreateUser", user_arn(caller.account, name, path))
        self.ensure_account(caller.account)
        row = IamUserRow(account_id=caller.account, name=name, user_id=unique_id("AIDA"), path=path,
                         created_ms=now_ms())
        if self.metadata.get_iam_user(caller.account, name) is not None:
            raise EntityAlreadyExists(f"User with name {name} already exists.")
        try:
            self.metadata.add_iam_user(row)
        except DuplicateError:
            raise EntityAlreadyExists(f"User with name {name} already exists.") from None
        return {"User": user_shape(row)}

    @operation("GetUser")
    def get_user(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("UserName")
        if name is None and caller.user_name is None:  # the account root asking about itself
            self.authorize(caller, "GetUser", root_arn(caller.account))
            account = self.metadata.get_account(caller.account)
            created = account.created_ms if account is not None else now_ms()
            return {"User": {"Path": "/", "UserId": caller.account, "Arn": root_arn(caller.account),
                             "CreateDate": timestamp(created)}}
        name = name or caller.user_name
        self.authorize(caller, "GetUser", self.user_resource(caller, name))
        return {"User": user_shape(self.user(caller, name))}

    @operation("ListUsers")
    def list_users(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        self.authorize(caller, "ListUsers", f"arn:aws:iam::{caller.account}:user/")
        rows = self.metadata.list_iam_users(caller.account, params.get("PathPrefix", "/"))
        chunk, more = page(rows, lambda r: r.name, params)
        return {"Users": [user_shape(r) for r in chunk], **more}

    @operation("DeleteUser")
    def delete_user(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        name = params["UserName"]
        self.authorize(caller, "DeleteUser", self.user_resource(caller, name))
        self.user(caller, name)
        if self.metadata.access_keys_of(caller.account, name):
            raise DeleteConflict("Cannot delete entity, must delete access keys first.")
        if self.metadata.list_user_policies(caller.account, name):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if self.metadata.attached_policies_of(caller.account, name):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        self.metadata.delete_iam_user(caller.account, name)
        return {}

    # -- access keys ----------------------------------------------------------------------------------------
    @operation("CreateAccessKey")
    def create_access_key(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        user = self.target_user(caller, params)
        self.authorize(caller, "CreateAccessKey", self.user_resource(caller, user))
        if len(self.metadata.access_keys_of(caller.account, user)) >= ACCESS_KEYS_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}")
        self.ensure_account(caller.account)
        key, secret = new_key_pair()
        row = AccessKeyRow(access_key_id=key, secret=secret, account_id=caller.account, user_name=user,
                           status="Active", created_ms=now_ms())
        self.metadata.put_access_key(row)
        shape = {"UserName": user or "", "AccessKeyId": key, "Status": "Active", "SecretAccessKey": secret,
                 "CreateDate": timestamp(row.created_ms)}
        return {"AccessKey": shape}

    @operation("ListAccessKeys")
    def list_access_keys(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        user = self.target_user(caller, params)
        self.authorize(caller, "ListAccessKeys", self.user_resource(caller, user))
        rows = self.metadata.access_keys_of(caller.account, user)
        chunk, more = page(rows, lambda r: r.access_key_id, params)
        return {"AccessKeyMetadata": [key_metadata(r, user is None) for r in chunk], **more}

    def _key_of(self, caller: Caller, user: str | None, key_id: str) -> Any:
        row = self.metadata.get_access_key(key_id)
        if row is None or row.account_id != caller.account or row.user_name != user:
            raise NoSuchEntity(f"The Access Key with id {key_id} cannot be found.")
        return row

    @operation("UpdateAccessKey")
    def update_access_key(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        user = self.target_user(caller, params)
        self.authorize(caller, "UpdateAccessKey", self.user_resource(caller, user))
        self._key_of(caller, user, params["AccessKeyId"])
        self.metadata.set_access_key_status(params["AccessKeyId"], params["Status"])
        return {}

    @operation("DeleteAccessKey")
    def delete_access_key(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        user = self.target_user(caller, params)
        self.authorize(caller, "DeleteAccessKey", self.user_resource(caller, user))
        self._key_of(caller, user, params["AccessKeyId"])
        self.metadata.delete_access_key(params["AccessKeyId"])
        return {}

    # -- inline user policies -------------------------------------------------------------------------------
    @operation("PutUserPolicy")
    def put_user_policy(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        name = params["UserName"]
        self.authorize(caller, "PutUserPolicy", self.user_resource(caller, name))
        self.user(caller, name)
        document = _document(params["PolicyDocument"])
        self.metadata.put_user_policy(caller.account, name, params["PolicyName"], document)
        return {}

    @operation("GetUserPolicy")
    def get_user_policy(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        name, policy = params["UserName"], params["PolicyName"]
        self.authorize(caller, "GetUserPolicy", self.user_resource(caller, name))
        self.user(caller, name)
        row = self.metadata.get_user_policy(caller.account, name, policy)
        if row is None:
            raise NoSuchEntity(f"The user policy with name {policy} cannot be found.")
        return {"UserName": name, "PolicyName": policy, "PolicyDocument": _quoted(row.document)}

    @operation("ListUserPolicies")
    def list_user_policies(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        name = params["UserName"]
        self.authorize(caller, "ListUserPolicies", self.user_resource(caller, name))
        self.user(caller, name)
        names = [r.policy_name for r in self.metadata.list_user_policies(caller.account, name)]
        chunk, more = page(names, lambda n: n, params)
        return {"PolicyNames": chunk, **more}

    @operation("DeleteUserPolicy")
    def delete_user_policy(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        name, policy = params["UserName"], params["PolicyName"]
        self.authorize(caller, "DeleteUserPolicy", self.user_resource(caller, name))
        self.user(caller, name)
        if not self.metadata.delete_user_policy(caller.account, name, policy):
            raise NoSuchEntity(f"The user policy with name {policy} cannot be found.")
        return {}

    # -- managed policies -----------------------------------------------------------------------------------
    def _policy_shape(self, row: Any, attachments: int) -> dict[str, Any]:
        shape = {"PolicyName": row.name, "PolicyId": row.policy_id, "Arn": row.arn, "Path": row.path,
                 "DefaultVersionId": row.default_version, "AttachmentCount": attachments,
                 "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
                 "CreateDate": timestamp(row.created_ms), "UpdateDate": timestamp(row.updated_ms)}
        if row.description:
            shape["Description"] = row.description
        return shape

    def _policy(self, caller: Caller, arn: str) -> Any:
        row = self.metadata.get_managed_policy(arn)
        if row is None or row.account_id != caller.account:
            raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
        return row

    @operation("CreatePolicy")
    def create_policy(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        name, path = params["PolicyName"], params.get("Path", "/")
        arn = policy_arn(caller.account, name, path)
        self.authorize(caller, "CreatePolicy", arn)
        document = _document(params["PolicyDocument"])
        self.ensure_account(caller.account)
        now = now_ms()
        row = IamManagedPolicyRow(arn=arn, account_id=caller.account, name=name, policy_id=unique_id("ANPA"),
                                  path=path, description=params.get("Description"), document=document,
                                  default_version=DEFAULT_VERSION, created_ms=now, updated_ms=now)
        try:
            self.metadata.add_managed_policy(row)
        except DuplicateError:
            raise EntityAlreadyExists(f"A policy called {name} already exists. Duplicate names are not allowed.") \
                from None
        return {"Policy": self._policy_shape(row, 0)}

    @operation("GetPolicy")
    def get_policy(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["PolicyArn"]
        self.authorize(caller, "GetPolicy", arn)
        row = self._policy(caller, arn)
        return {"Policy": self._policy_shape(row, self.metadata.attachment_counts(caller.account).get(arn, 0))}

    @operation("ListPolicies")
    def list_policies(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        self.authorize(caller, "ListPolicies", f"arn:aws:iam::{caller.account}:policy/")
        rows: list[Any] = []
        if params.get("Scope", "All") != "AWS":  # openrek has no AWS managed policies
            rows = self.metadata.list_managed_policies(caller.account, params.get("PathPrefix", "/"))
        counts = self.metadata.attachment_counts(caller.account)
        if params.get("OnlyAttached"):
            rows = [r for r in rows if counts.get(r.arn)]
        chunk, more = page(rows, lambda r: r.name, params)
        return {"Policies": [self._policy_shape(r, counts.get(r.arn, 0)) for r in chunk], **more}

    @operation("DeletePolicy")
    def delete_policy(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["PolicyArn"]
        self.authorize(caller, "DeletePolicy", arn)
        self._policy(caller, arn)
        if self.metadata.attachment_counts(caller.account).get(arn):
            raise DeleteConflict("Cannot delete a policy attached to entities.")
        self.metadata.delete_managed_policy(arn)
        return {}

    # -- attachments ----------------------------------------------------------------------------------------
    @operation("AttachUserPolicy")
    def attach_user_policy(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        name, arn = params["UserName"], params["PolicyArn"]
        self.authorize(caller, "AttachUserPolicy", self.user_resource(caller, name))
        self.user(caller, name)
        self._policy(caller, arn)
        attached = {r.arn for r in self.metadata.attached_policies_of(caller.account, name)}
        if arn not in attached and len(attached) >= POLICIES_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for PoliciesPerUser: {POLICIES_PER_USER}")
        self.metadata.attach_user_policy(caller.account, name, arn)
        return {}

    @operation("DetachUserPolicy")
    def detach_user_policy(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        name, arn = params["UserName"], params["PolicyArn"]
        self.authorize(caller, "DetachUserPolicy", self.user_resource(caller, name))
        self.user(caller, name)
        if not self.metadata.detach_user_policy(caller.account, name, arn):
            raise NoSuchEntity(f"Policy {arn} was not found.")
        return {}

    @operation("ListAttachedUserPolicies")
    def list_attached_user_policies(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        name = params["UserName"]
        self.authorize(caller, "ListAttachedUserPolicies", self.user_resource(caller, name))
        self.user(caller, name)
        rows = self.metadata.attached_policies_of(caller.account, name)
        if params.get("PathPrefix"):
            rows = [r for r in rows if r.path.startswith(params["PathPrefix"])]
        chunk, more = page(rows, lambda r: r.name, params)
        return {"AttachedPolicies": [{"PolicyName": r.name, "PolicyArn": r.arn} for r in chunk], **more}
