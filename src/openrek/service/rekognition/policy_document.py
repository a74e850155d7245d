"""Checks a project policy document against the IAM policy grammar (a resource-based policy).

What AWS refuses with MalformedPolicyDocumentException: not JSON, not an object, unknown top-level or
statement keys, a bad Version, no Statement, a statement without Effect Allow/Deny, without exactly one
of Principal/NotPrincipal or of Action/NotAction, or with values of the wrong type.
"""

from __future__ import annotations

import json
from typing import Any

VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_KEYS = {"Version", "Id", "Statement"}
_STATEMENT_KEYS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
                   "NotResource", "Condition"}
_PRINCIPAL_KEYS = {"AWS", "Service", "Federated", "CanonicalUser"}


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


def _statement(st: Any, index: int) -> None:
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
    for pair in (("Principal", "NotPrincipal"), ("Action", "NotAction")):
        present = [k for k in pair if k in st]
        if len(present) != 1:
            raise PolicyDocumentError(f"{where} needs exactly one of {pair[0]} or {pair[1]} (a project policy says "
                                      "who may do what).")
    for key in ("Principal", "NotPrincipal"):
        if key in st:
            _principal(st[key], f"{where}.{key}")
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if key in st:
            _strings(st[key], f"{where}.{key}")
    if "Resource" in st and "NotResource" in st:
        raise PolicyDocumentError(f"{where} may have Resource or NotResource, not both.")
    if "Condition" in st:
        cond = st["Condition"]
        if not isinstance(cond, dict) or not all(isinstance(v, dict) for v in cond.values()):
            raise PolicyDocumentError(f'{where}.Condition must map operators to objects, e.g. '
                                      '{"StringEquals": {"aws:SourceAccount": "123456789012"}}.')


def check_policy_document(text: str) -> dict[str, Any]:
    """The parsed document; raises PolicyDocumentError if it breaks the grammar."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise PolicyDocumentError(f"The policy document is not valid JSON ({exc}).") from None
    if not isinstance(doc, dict):
        raise PolicyDocumentError("The policy document must be a JSON object with Version and Statement.")
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise PolicyDocumentError(f"The policy document has unknown keys {sorted(unknown)}; allowed: Version, Id, "
                                  "Statement.")
    if "Version" in doc and doc["Version"] not in VERSIONS:
        raise PolicyDocumentError(f'Version must be "2012-10-17" (or "2008-10-17"), not {doc["Version"]!r}.')
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise PolicyDocumentError("The policy document needs a Statement: an object or a non-empty list of them.")
    for i, st in enumerate(statements):
        _statement(st, i)
    return doc
