"""IAM policy evaluation: may this principal do this action on this resource, given its identity-based
policies and the resource's resource-based policies (project policies, bucket policies)? Pure: no I/O.

The rules are AWS's for accounts and resource policies (no SCPs, permission boundaries or sessions):
1. The root of the resource's own account is allowed everything there.
2. A matching Deny in any policy decides: explicit deny.
3. Same account: allowed if an identity-based policy allows, or a resource-based policy allows and names
   this principal itself (its ARN, or "*"); naming only its account delegates to the account's own IAM
   policies, as in AWS.
4. Another account: allowed only if both sides allow — an identity-based policy in the caller's account
   (the caller account's root counts as allowed) and a resource-based policy naming the caller, its ARN,
   its account (root ARN or bare id) or "*".
5. Otherwise: implicit deny.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from openrek import json_input
from openrek.security.policy_conditions import Condition, ConditionError, compile_block
from openrek.security.policy_document import (
    PolicyDocumentError,
    PolicyKind,
    check_policy,
    statements,
    uses_variables,
)
from openrek.security.policy_patterns import Context, Pattern, Style

__all__ = [
    "AuthorizationRequest", "Decision", "Effect", "Policy", "PolicyDocumentError", "PolicyKind", "StatementRef",
    "evaluate", "request_context",
]


@dataclass(frozen=True)
class AuthorizationRequest:
    """One question for the evaluator: who (principal), what (action), on what (resource), and the request's
    condition keys (`aws:SourceIp`, `aws:SecureTransport`, `aws:RequestTag/…`, `aws:ResourceTag/…`, …).

    `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:ResourceAccount`, `aws:PrincipalType` and `aws:username`
    are derived from the fields and win over the same keys in `condition_keys`.
    """

    principal_arn: str
    principal_account: str
    is_root: bool
    action: str
    resource_arn: str
    resource_account: str
    condition_keys: Mapping[str, str | Sequence[str]] = field(default_factory=dict)


class Effect(StrEnum):
    """The outcome of an evaluation."""

    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


@dataclass(frozen=True)
class StatementRef:
    """Which statement of which policy: for messages and audit logs."""

    policy_name: str
    kind: PolicyKind
    sid: str | None
    index: int

    def __str__(self) -> str:
        which = f'statement "{self.sid}"' if self.sid else f"statement {self.index}"
        return f'{which} of {self.kind.value} policy "{self.policy_name}"'


@dataclass(frozen=True)
class Decision:
    """The evaluator's answer, with the statements that decided it.

    `statements`: for an explicit deny, the Deny; for an allow, the first Allow found (same account) or
    the Allow of each side (another account; none on the caller's side when its root asks); for an implicit deny, none, and `missing` says which kind
    of policy has no Allow.
    """

    effect: Effect
    request: AuthorizationRequest
    statements: tuple[StatementRef, ...] = ()
    missing: PolicyKind | None = None
    by_root: bool = False

    @property
    def allowed(self) -> bool:
        return self.effect is Effect.ALLOW

    @property
    def statement(self) -> StatementRef | None:
        """The first deciding statement, if any."""
        return self.statements[0] if self.statements else None

    @property
    def message(self) -> str:
        """AWS's wording: "User: arn:… is not authorized to perform: ACTION on resource: ARN because …"."""
        r = self.request
        head = f"User: {r.principal_arn}"
        tail = f"perform: {r.action} on resource: {r.resource_arn}"
        if self.effect is Effect.ALLOW:
            return f"{head} is authorized to {tail}"
        if self.effect is Effect.EXPLICIT_DENY:
            assert self.statement is not None
            article = "an" if self.statement.kind is PolicyKind.IDENTITY else "a"
            return f"{head} is not authorized to {tail} with an explicit deny in {article} " \
                   f"{self.statement.kind.value} policy"
        missing = self.missing or PolicyKind.IDENTITY
        return f"{head} is not authorized to {tail} because no {missing.value} policy allows the {r.action} action"

    @property
    def detail(self) -> str:
        """The message plus the statements that decided, for logs."""
        parts = [f"the root of account {self.request.principal_account}"] if self.by_root else []
        parts += [str(s) for s in self.statements]
        return f"{self.message} ({'; '.join(parts)})" if parts else self.message


_DIRECT, _ACCOUNT = "direct", "account"  # how a resource policy's principal matched the caller


@dataclass(frozen=True, slots=True)
class _Principals:
    anyone: bool
    accounts: frozenset[str]
    arns: frozenset[str]

    @classmethod
    def of(cls, value: Any) -> _Principals:
        if value == "*":
            return cls(True, frozenset(), frozenset())
        anyone, accounts, arns = False, set(), set()
        aws = value.get("AWS", []) if isinstance(value, dict) else []
        # Service, Federated and CanonicalUser principals never name one of openrek's IAM callers.
        for item in aws if isinstance(aws, list) else [aws]:
            if not isinstance(item, str):
                continue
            if item == "*":
                anyone = True
            elif item.isdigit() and len(item) == 12:
                accounts.add(item)
            elif item.startswith("arn:") and item.endswith(":root") and item.count(":") == 5:
                accounts.add(item.split(":")[4])
            else:
                arns.add(item)
        return cls(anyone, frozenset(accounts), frozenset(arns))

    def match(self, request: AuthorizationRequest) -> str | None:
        if self.anyone or request.principal_arn in self.arns:
            return _DIRECT
        if request.principal_account in self.accounts:
            return _DIRECT if request.is_root else _ACCOUNT
        return None


@dataclass(frozen=True, slots=True)
class _Statement:
    ref: StatementRef
    allow: bool
    actions: tuple[Pattern, ...]
    not_action: bool
    resources: tuple[Pattern, ...] | None  # None: no Resource/NotResource (the resource the policy is on)
    not_resource: bool
    principals: _Principals | None  # None: an identity-based policy
    not_principal: bool
    conditions: tuple[Condition, ...]
    broken: bool  # a part the evaluator cannot read: the statement matches nothing

    def principal_match(self, request: AuthorizationRequest) -> str | None:
        """How this statement names the caller (identity-based: always, directly); None if it does not."""
        if self.principals is None:
            return _DIRECT
        via = self.principals.match(request)
        if self.not_principal:
            return None if via else _DIRECT
        return via

    def applies(self, request: AuthorizationRequest, ctx: Context) -> bool:
        """Action, resource and conditions (not the principal) match the request."""
        if self.broken:
            return False
        action = request.action
        if any(p.matches(action, ctx) for p in self.actions) == self.not_action:
            return False
        if self.resources is not None:
            resource = request.resource_arn
            if any(p.matches(resource, ctx) for p in self.resources) == self.not_resource:
                return False
        return all(c.holds(ctx) for c in self.conditions)


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, str)]


def _compile_statement(st: Any, index: int, name: str, kind: PolicyKind, variables: bool) -> _Statement:
    st = st if isinstance(st, dict) else {}
    sid = st.get("Sid") if isinstance(st.get("Sid"), str) else None
    ref = StatementRef(name, kind, sid, index)
    broken = st.get("Effect") not in ("Allow", "Deny")
    action_key = "NotAction" if "NotAction" in st else "Action"
    actions = tuple(Pattern(a, Style.GLOB, ignore_case=True) for a in _strings(st.get(action_key)))
    resources: tuple[Pattern, ...] | None = None
    resource_key = "NotResource" if "NotResource" in st else "Resource"
    if resource_key in st:
        resources = tuple(Pattern(r, Style.ARN, variables=variables) for r in _strings(st[resource_key]))
    elif kind is PolicyKind.IDENTITY:
        broken = True
    principals = None
    principal_key = "NotPrincipal" if "NotPrincipal" in st else "Principal"
    if kind is PolicyKind.RESOURCE:
        if principal_key in st:
            principals = _Principals.of(st[principal_key])
        else:
            broken = True
    conditions: tuple[Condition, ...] = ()
    if "Condition" in st:
        try:
            conditions = compile_block(st["Condition"], variables=variables)
        except ConditionError:
            broken = True
    return _Statement(ref, st.get("Effect") == "Allow", actions, action_key == "NotAction", resources,
                      resource_key == "NotResource", principals, principal_key == "NotPrincipal", conditions,
                      broken)


@dataclass(frozen=True)
class Policy:
    """A policy document compiled for evaluation: build once (when stored or loaded), evaluate many times."""

    name: str
    kind: PolicyKind
    statements: tuple[_Statement, ...]

    @classmethod
    def parse(cls, name: str, document: str | Mapping[str, Any], kind: PolicyKind, *,
              strict: bool = True) -> Policy:
        """Compile `document` (JSON text or parsed). strict: raise PolicyDocumentError where the grammar is
        broken; not strict (documents stored before a stricter check): a statement the evaluator cannot read
        matches nothing, and an unreadable document has no statements."""
        doc: Any = document
        if isinstance(document, str):
            try:
                doc = json_input.loads(document)
            except ValueError as exc:
                if strict:
                    raise PolicyDocumentError(f"The policy document is not valid JSON ({exc}).") from None
                return cls(name, kind, ())
        if strict:
            check_policy(doc, kind)
        elif not isinstance(doc, Mapping) or not isinstance(doc.get("Statement"), dict | list):
            return cls(name, kind, ())
        variables = uses_variables(dict(doc))
        compiled = tuple(_compile_statement(st, i, name, kind, variables)
                         for i, st in enumerate(statements(dict(doc))))
        return cls(name, kind, compiled)


def _user_name(principal_arn: str) -> str | None:
    parts = principal_arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "iam" and parts[5].startswith("user/"):
        return parts[5].rsplit("/", 1)[-1]
    return None


def request_context(request: AuthorizationRequest) -> dict[str, tuple[str, ...]]:
    """The request's condition keys, lower-cased, each with its values, plus the keys its principal implies."""
    ctx: dict[str, tuple[str, ...]] = {}
    for key, value in request.condition_keys.items():
        if isinstance(value, bool):
            ctx[key.lower()] = ("true" if value else "false",)
        elif isinstance(value, str):
            ctx[key.lower()] = (value,)
        else:
            ctx[key.lower()] = tuple(value)
    ctx["aws:principalarn"] = (request.principal_arn,)
    ctx["aws:principalaccount"] = (request.principal_account,)
    ctx["aws:resourceaccount"] = (request.resource_account,)
    user = _user_name(request.principal_arn)
    if request.is_root:
        ctx["aws:principaltype"] = ("Account",)
        ctx.pop("aws:username", None)
    elif user is not None:
        ctx["aws:principaltype"] = ("User",)
        ctx["aws:username"] = (user,)
    return ctx


def _identity_statements(request: AuthorizationRequest, ctx: Context, policies: Iterable[Policy],
                         ) -> tuple[Decision | None, StatementRef | None]:
    """(an explicit Deny's decision, or None; the first Allow) of the caller's identity policies."""
    allow: StatementRef | None = None
    for policy in policies:
        for st in policy.statements:
            if st.applies(request, ctx):
                if not st.allow:
                    return Decision(Effect.EXPLICIT_DENY, request, (st.ref,)), None
                allow = allow or st.ref
    return None, allow


def evaluate(request: AuthorizationRequest, identity_policies: Iterable[Policy] = (),
             resource_policies: Iterable[Policy] = ()) -> Decision:
    """May `request.principal_arn` do `request.action` on `request.resource_arn`? (see the module's rules)

    `identity_policies`: those attached to the principal; `resource_policies`: those on the resource.
    """
    if request.is_root and request.principal_account == request.resource_account:
        return Decision(Effect.ALLOW, request, by_root=True)
    ctx = request_context(request)
    deny, identity_allow = _identity_statements(request, ctx, identity_policies)
    if deny is not None:
        return deny
    same_account = request.principal_account == request.resource_account
    resource_allow: StatementRef | None = None
    for policy in resource_policies:
        for st in policy.statements:
            via = st.principal_match(request)
            if via is None or not st.applies(request, ctx):
                continue
            if not st.allow:
                return Decision(Effect.EXPLICIT_DENY, request, (st.ref,))
            # In its own account, a principal named only through its account needs an identity-based Allow.
            if resource_allow is None and (via == _DIRECT or not same_account):
                resource_allow = st.ref
    if same_account:
        either = identity_allow or resource_allow
        if either is not None:
            return Decision(Effect.ALLOW, request, (either,))
        return Decision(Effect.IMPLICIT_DENY, request, missing=PolicyKind.IDENTITY)
    if identity_allow is None and not request.is_root:
        return Decision(Effect.IMPLICIT_DENY, request, missing=PolicyKind.IDENTITY)
    if resource_allow is None:
        return Decision(Effect.IMPLICIT_DENY, request, missing=PolicyKind.RESOURCE)
    return Decision(Effect.ALLOW, request, tuple(s for s in (identity_allow, resource_allow) if s),
                    by_root=identity_allow is None)


def evaluate_key_policy(request: AuthorizationRequest, identity_policies: Iterable[Policy] = (),
                        key_policies: Iterable[Policy] = ()) -> Decision:
    """KMS's rule for a key: its key policy must allow the caller, either naming it or naming its account
    (which hands the decision to that account's identity policies); the account root obeys it too (a key
    policy can lock everyone out); from another account the caller's identity policies must also allow;
    an explicit Deny anywhere wins."""
    ctx = request_context(request)
    deny, identity_allow = _identity_statements(request, ctx, () if request.is_root else identity_policies)
    if deny is not None:
        return deny
    named: StatementRef | None = None
    through_account: StatementRef | None = None
    for policy in key_policies:
        for st in policy.statements:
            via = st.principal_match(request)
            if via is None or not st.applies(request, ctx):
                continue
            if not st.allow:
                return Decision(Effect.EXPLICIT_DENY, request, (st.ref,))
            if via == _DIRECT:
                named = named or st.ref
            else:
                through_account = through_account or st.ref
    same_account = request.principal_account == request.resource_account
    caller_side = request.is_root or identity_allow is not None
    if named is not None and (same_account or caller_side):
        return Decision(Effect.ALLOW, request, tuple(s for s in (named, identity_allow) if s),
                        by_root=request.is_root)
    if through_account is not None and caller_side:
        return Decision(Effect.ALLOW, request, tuple(s for s in (through_account, identity_allow) if s))
    missing = PolicyKind.RESOURCE if named is None and through_account is None else PolicyKind.IDENTITY
    return Decision(Effect.IMPLICIT_DENY, request, missing=missing)
