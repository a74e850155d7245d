"""PutProjectPolicy, ListProjectPolicies, DeleteProjectPolicy: stored and validated, with revision ids.

They decide cross-account CopyProjectVersion once identities exist (see the security issue).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from openrek.security.policy_document import PolicyDocumentError, check_policy_document
from openrek.service.context import RequestContext
from openrek.service.errors import (
    InvalidPolicyRevisionIdException,
    LimitExceededException,
    MalformedPolicyDocumentException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
)
from openrek.service.rekognition.base import ProviderBase, now_ms
from openrek.service.rekognition.registry import operation
from openrek.store.metadata import DuplicateError, StaleRevisionError

MAX_POLICIES_PER_PROJECT = 5


def _ts(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000.0, tz=UTC)


class PolicyOperations(ProviderBase):
    @operation("PutProjectPolicy", metadata_only=True)
    def put_project_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        project = self._project(params["ProjectArn"])
        name = params["PolicyName"]
        try:
            check_policy_document(params["PolicyDocument"])
        except PolicyDocumentError as exc:
            raise MalformedPolicyDocumentException(f"The policy document of {name} is malformed: {exc}") from None
        revision = uuid.uuid4().hex
        expected = params.get("PolicyRevisionId") or None
        try:
            self.metadata.put_policy(project.arn, name, expected, revision, params["PolicyDocument"], now_ms(),
                                     MAX_POLICIES_PER_PROJECT)
        except DuplicateError:
            raise ResourceAlreadyExistsException(
                f"The project already has a policy named {name}. To replace it, pass its current PolicyRevisionId "
                "(ListProjectPolicies shows it).") from None
        except StaleRevisionError:
            raise InvalidPolicyRevisionIdException(
                f"The PolicyRevisionId {expected} is not the current revision of the policy {name}"
                " (it changed, or does not exist). Get the current one with ListProjectPolicies and try again."
            ) from None
        except OverflowError:
            raise LimitExceededException(
                f"The project already has {MAX_POLICIES_PER_PROJECT} policies, the most a project can have. "
                "Delete one (DeleteProjectPolicy) or update an existing one.") from None
        return {"PolicyRevisionId": revision}

    @operation("ListProjectPolicies", metadata_only=True)
    def list_project_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        project = self._project(params["ProjectArn"])
        rows = self.metadata.list_policies(project.arn)
        chunk, token = self.page_tokens.page(rows, f"policies|{project.arn}", params.get("NextToken"),
                                             params.get("MaxResults"), default=MAX_POLICIES_PER_PROJECT)
        return {"ProjectPolicies": [
            {"ProjectArn": r.project_arn, "PolicyName": r.name, "PolicyRevisionId": r.revision_id,
             "PolicyDocument": r.document, "CreationTimestamp": _ts(r.created_ms),
             "LastUpdatedTimestamp": _ts(r.updated_ms)} for r in chunk], "NextToken": token}

    @operation("DeleteProjectPolicy", metadata_only=True)
    def delete_project_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        project = self._project(params["ProjectArn"])
        name = params["PolicyName"]
        expected = params.get("PolicyRevisionId") or None
        try:
            deleted = self.metadata.delete_policy(project.arn, name, expected)
        except StaleRevisionError:
            raise InvalidPolicyRevisionIdException(
                f"The PolicyRevisionId {expected} is not the current revision of the policy {name}; get the "
                "current one with ListProjectPolicies, or leave PolicyRevisionId out.") from None
        if not deleted:
            raise ResourceNotFoundException(f"The project {project.name} has no policy named {name}.")
        return {}
