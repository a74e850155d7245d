"""Policy evaluation cost: median µs per `evaluate()` for typical requests against 3 identity-based policies
and 1 resource-based policy (a project policy), compiled once beforehand. Prints a table and exits.

    PYTHONPATH=src .venv/bin/python bench/policy_bench.py [--repeats 31] [--batch 2000]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from openrek.security.policy_evaluation import (  # noqa: E402
    AuthorizationRequest,
    Policy,
    PolicyKind,
    evaluate,
)

A, B = "111122223333", "444455556666"
PROJECT = f"arn:aws:rekognition:us-east-1:{A}:project/p/1700000000000"
VERSION = f"arn:aws:rekognition:us-east-1:{A}:project/p/version/v1/1700000000001"

IDENTITY = [
    ("read-only", {"Version": "2012-10-17", "Statement": [
        {"Sid": "Describe", "Effect": "Allow", "Action": ["rekognition:Describe*", "rekognition:List*",
                                                          "s3:Get*", "s3:List*"], "Resource": "*"}]}),
    ("train-own-projects", {"Version": "2012-10-17", "Statement": [
        {"Sid": "Train", "Effect": "Allow",
         "Action": ["rekognition:CreateProjectVersion", "rekognition:StartProjectVersion",
                    "rekognition:StopProjectVersion"],
         "Resource": "arn:aws:rekognition:*:${aws:PrincipalAccount}:project/*",
         "Condition": {"StringEqualsIfExists": {"aws:ResourceTag/team": "vision"},
                       "Bool": {"aws:SecureTransport": "true"}}},
        {"Sid": "CopyIn", "Effect": "Allow", "Action": "rekognition:CopyProjectVersion",
         "Resource": "arn:aws:rekognition:*:*:project/*/version/*/*"},
        {"Sid": "Tagging", "Effect": "Allow", "Action": "rekognition:TagResource", "Resource": "*",
         "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}}}]}),
    ("guardrails", {"Version": "2012-10-17", "Statement": [
        {"Sid": "NoDeletes", "Effect": "Deny", "Action": "rekognition:Delete*", "Resource": "*"},
        {"Sid": "OfficeOnly", "Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.0/24"]}}}]}),
]
RESOURCE = [
    ("copy-to-b", {"Version": "2012-10-17", "Statement": [
        {"Sid": "AllowCopyFromB", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
         "Action": "rekognition:CopyProjectVersion",
         "Resource": f"arn:aws:rekognition:us-east-1:{A}:project/p/version/*/*"}]}),
]

KEYS = {"aws:SecureTransport": "true", "aws:SourceIp": "203.0.113.7", "aws:ResourceTag/team": "vision",
        "aws:CurrentTime": "2026-01-01T00:00:00Z"}
REQUESTS = [
    ("typical: same-account allow", AuthorizationRequest(
        f"arn:aws:iam::{A}:user/alice", A, False, "rekognition:CreateProjectVersion", PROJECT, A, KEYS)),
    ("cross-account copy allow", AuthorizationRequest(
        f"arn:aws:iam::{B}:user/bob", B, False, "rekognition:CopyProjectVersion", VERSION, A, KEYS)),
    ("implicit deny", AuthorizationRequest(
        f"arn:aws:iam::{A}:user/alice", A, False, "rekognition:CreateDataset", PROJECT, A, KEYS)),
    ("explicit deny", AuthorizationRequest(
        f"arn:aws:iam::{A}:user/alice", A, False, "rekognition:DeleteProject", PROJECT, A, KEYS)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=31)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    identity = [Policy.parse(n, d, PolicyKind.IDENTITY) for n, d in IDENTITY]
    resource = [Policy.parse(n, d, PolicyKind.RESOURCE) for n, d in RESOURCE]
    print(f"policy evaluation, {len(identity)} identity + {len(resource)} resource policies; "
          f"Python {platform.python_version()} on {platform.processor() or platform.machine()}")
    print(f"{'request':32} {'decision':13} {'median µs':>10} {'best µs':>9}")
    for label, req in REQUESTS:
        effect = evaluate(req, identity, resource).effect
        per_call = []
        for _ in range(args.repeats):
            start = time.perf_counter_ns()
            for _ in range(args.batch):
                evaluate(req, identity, resource)
            per_call.append((time.perf_counter_ns() - start) / args.batch / 1000)
        print(f"{label:32} {effect.value:13} {statistics.median(per_call):10.2f} {min(per_call):9.2f}")
    start = time.perf_counter_ns()
    for _ in range(200):
        [Policy.parse(n, d, PolicyKind.IDENTITY) for n, d in IDENTITY]
    print(f"{'compile the 3 identity policies':32} {'':13} {(time.perf_counter_ns() - start) / 200 / 1000:10.2f}")


if __name__ == "__main__":
    main()
