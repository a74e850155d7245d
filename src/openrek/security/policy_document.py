"""Checks a policy document against the IAM policy grammar: resource-based (project, bucket) or identity-based.

What AWS refuses with MalformedPolicyDocumentException: not JSON, not an object, unknown top-level or
statement keys, a bad Version, no Statement, a statement without Effect Allow/Deny, without exactly one
of Action/NotAction, of Principal/NotPrincipal (resource-based; identity-based policies have none) or of
Resource/NotResource (identity-based), an unknown condition operator or a condition value it cannot read,
or values of the wrong type.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from openrek import json_input
from openrek.security.policy_conditions import ConditionError, compile_block

VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_KEYS = {"Version", "Id", "Statement"}
_STATEMENT_KEYS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
                   "NotResource", "Condition"}
_PRINCIPAL_KEYS = {"AWS", "Service", "Federated", "CanonicalUser"}


class PolicyKind(StrEnum):
    """Where a policy is attached; the value is how AWS's messages name it."""

    IDENTITY = "identity-based"
    RESOURCE = "resource-based"


class PolicyDocumentError(ValueError):
    """Why a policy document is malformed, in words a person can act on."""


def _strings(value: Any, what: str) -> None:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        raise PolicyDocumentError(f"{what} must be a non-empty string or a list of non-empty strings.")


def _principal(value: Any, where: str) -> None:
    if value == "*":
        return
    if not isinstance(value, dict) or not value:
        raise PolicyDocumentError(f'{where} must be "*" or an object such as {{"AWS": "arn:aws:iam::123456789012:root"}}.')
    for key, item in value.items():
        if key not in _PRINCIPAL_KEYS:
            raise PolicyDocumentError(f"{where} has an unknown key {key!r}; use one of {sorted(_PRINCIPAL_KEYS)}.")
        _strings(item, f"{where}.{key}")


def _statement(st: Any, index: int, kind: PolicyKind, variables: bool) -> None:
    where = f"Statement[{index}]"
    if not isinstance(st, dict):
        raise PolicyDocumentError(f"{where} must be an object.")
    unknown = set(st) - _STATEMENT_KEYS
    if unknown:
        raise PolicyDocumentError(f"{where} has unknown keys {sorted(unknown)}.")
    if st.get("Effect") not in ("Allow", "Deny"):
        raise PolicyDocumentError(f'{where}.Effect must be "Allow" or "Deny".')
    if "Sid" in st and not isinstance(st["Sid"], str):
        raise PolicyDocumentError(f"{where}.Sid must be a string.")
    if len([k for k in ("Action", "NotAction") if k in st]) != 1:
        raise PolicyDocumentError(f"{where} needs exactly one of Action or NotAction.")
    if kind is PolicyKind.RESOURCE:
        if len([k for k in ("Principal", "NotPrincipal") if k in st]) != 1:
            raise PolicyDocumentError(f"{where} needs exactly one of Principal or NotPrincipal (a resource-based "
                                      "policy says who may do what).")
    else:
        if "Principal" in st or "NotPrincipal" in st:
            raise PolicyDocumentError(f"{where} has a Principal; an identity-based policy applies to the identity "
                                      "it is attached to and names none.")
        if "Resource" not in st and "NotResource" not in st:
            raise PolicyDocumentError(f"{where} needs a Resource or NotResource (an identity-based policy says on "
                                      'what; "*" for everything).')
    for key in ("Principal", "NotPrincipal"):
        if key in st:
            _principal(st[key], f"{where}.{key}")
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if key in st:
            _strings(st[key], f"{where}.{key}")
    if "Resource" in st and "NotResource" in st:
        raise PolicyDocumentError(f"{where} may have Resource or NotResource, not both.")
    if "Condition" in st:
        try:
            compile_block(st["Condition"], variables=variables)
        except ConditionError as exc:
            raise PolicyDocumentError(f"{where}.Condition: {exc}") from None


def statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of a checked document (a lone statement object read as a list of one)."""
    st = doc["Statement"]
    return [st] if isinstance(st, dict) else list(st)


def uses_variables(doc: dict[str, Any]) -> bool:
    """Whether `${…}` is a policy variable in this document (Version 2012-10-17) rather than literal text."""
    return doc.get("Version") == "2012-10-17"


def check_policy_document(text: str, kind: PolicyKind = PolicyKind.RESOURCE) -> dict[str, Any]:
    """The parsed document; raises PolicyDocumentError if it breaks the grammar."""
    try:
        doc = json_input.loads(text)
    except ValueError as exc:
        raise PolicyDocumentError(f"The policy document is not valid JSON ({exc}).") from None
    return check_policy(doc, kind)


def check_policy(doc: Any, kind: PolicyKind = PolicyKind.RESOURCE) -> dict[str, Any]:
    """`doc` (already parsed) if it keeps the grammar; raises PolicyDocumentError if it breaks it."""
    if not isinstance(doc, dict):
        raise PolicyDocumentError("The policy document must be a JSON object with Version and Statement.")
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise PolicyDocumentError(f"The policy document has unknown keys {sorted(unknown)}; allowed: Version, Id, "
                                  "Statement.")
    if "Version" in doc and doc["Version"] not in VERSIONS:
        raise PolicyDocumentError(f'Version must be "2012-10-17" (or "2008-10-17"), not {doc["Version"]!r}.')
    body = doc.get("Statement")
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list) or not body:
        raise PolicyDocumentError("The policy document needs a Statement: an object or a non-empty list of them.")
    for i, st in enumerate(body):
        _statement(st, i, kind, uses_variables(doc))
    return doc
