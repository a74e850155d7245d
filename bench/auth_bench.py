"""Authentication cost: median µs per SigV4 verification of requests as stock boto3 signs them
(Rekognition JSON with the body hashed, S3 header auth, an S3 presigned URL). Prints a table and exits.

    .venv/bin/python bench/auth_bench.py [--repeats 31] [--batch 2000]
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from openrek.security.sigv4 import SignedRequest, verify  # noqa: E402

KEY, SECRET = "AKIABENCHKEY00000001", "bench-secret"
SECRETS = {KEY: SECRET}


def _signed(request: AWSRequest, body: bytes) -> SignedRequest:
    parts = urlsplit(request.url)
    headers = [(k, v) for k, v in request.headers.items()] + [("Host", parts.netloc)]
    return SignedRequest(request.method, parts.path, parts.query, headers, hashlib.sha256(body).hexdigest())


def cases() -> dict[str, SignedRequest]:
    creds = Credentials(KEY, SECRET)
    body = b'{"ProjectArn": "arn:aws:rekognition:us-east-1:000000000000:project/p/1", "MaxResults": 10}'
    rek = AWSRequest(method="POST", url="http://127.0.0.1:4599/", data=body,
                     headers={"X-Amz-Target": "RekognitionService.DescribeProjectVersions",
                              "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(creds, "rekognition", "us-east-1").add_auth(rek)
    s3 = AWSRequest(method="GET", url="http://127.0.0.1:4599/bucket/some/key.jpg?versionId=3",
                    headers={"x-amz-content-sha256": hashlib.sha256(b"").hexdigest()})
    S3SigV4Auth(creds, "s3", "us-east-1").add_auth(s3)
    presigned = AWSRequest(method="GET", url="http://127.0.0.1:4599/bucket/some/key.jpg")
    S3SigV4QueryAuth(creds, "s3", "us-east-1", expires=3600).add_auth(presigned)
    return {"Rekognition JSON (body hashed)": _signed(rek, body), "S3 header auth": _signed(s3, b""),
            "S3 presigned URL": _signed(presigned, b"")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=31)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"{'request':<32}{'median µs':>10}{'best µs':>9}")
    for name, request in cases().items():
        verify(request, SECRETS.get)
        runs = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for _ in range(args.batch):
                verify(request, SECRETS.get)
            runs.append((time.perf_counter() - t0) / args.batch * 1e6)
        print(f"{name:<32}{statistics.median(runs):>10.1f}{min(runs):>9.1f}")


if __name__ == "__main__":
    main()
