"""ARNs and ids of IAM principals and policies: `arn:aws:iam::<account>:root`, `…:user<path><name>`,
`…:policy<path><name>`, and AWS-looking unique ids (AIDA… for users, ANPA… for policies)."""

from __future__ import annotations

import secrets
import string

from openrek.security.identities import Caller

_ID_ALPHABET = string.ascii_uppercase + string.digits


def unique_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def root_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


def user_arn(account: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account}:user{path}{name}"


def policy_arn(account: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account}:policy{path}{name}"


def caller_arn(caller: Caller, path: str = "/") -> str:
    return root_arn(caller.account) if caller.user_name is None else user_arn(caller.account, caller.user_name, path)
