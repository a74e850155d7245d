"""HTTPS: a real `openrek server` with a self-signed or a given certificate, used by stock boto3 and `aws`.

The clients really verify: boto3 trusts the server only when pointed at its certificate (`verify=`), and
the `aws` CLI only with `--ca-bundle`; without them the handshake fails.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from openrek import tls
from tests.support.clients import CREDENTIALS
from tests.support.server import ServerProcess

AWS = str(Path(sys.executable).with_name("aws"))


def https_client(service: str, endpoint: str, verify: str | bool | None):  # type: ignore[no-untyped-def]
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"},
                    connect_timeout=10, read_timeout=30)
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", config=config, verify=verify,
                        **CREDENTIALS)


def aws(endpoint: str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(home / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(home / "none")}
    env.pop("AWS_CA_BUNDLE", None)
    return subprocess.run([AWS, "--endpoint-url", endpoint, *args], capture_output=True, text=True, env=env,
                          timeout=120)


def make_pair(directory: Path, name: str) -> tuple[Path, Path]:
    """A certificate for localhost/127.0.0.1 and its key, made here (not by openrek)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"test {name}")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{name}-cert.pem", directory / f"{name}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("openrek-tls") / "data"
    env = {"OPENREK_TLS": "", "OPENREK_TLS_CERT": "", "OPENREK_TLS_KEY": ""}
    with ServerProcess(data_dir, env=env, args=["--tls", "self-signed"]) as server:
        yield server


def test_self_signed_certificate_is_made_in_the_data_dir_and_announced(tls_server: ServerProcess) -> None:
    assert tls_server.endpoint.startswith("https://127.0.0.1:")
    cert_path, key_path = tls_server.data_dir / "tls" / "cert.pem", tls_server.data_dir / "tls" / "key.pem"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert any(str(cert_path) in line and "--ca-bundle" in line for line in tls_server.output), tls_server.output
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert dt.timedelta(days=300) < lifetime < dt.timedelta(days=400)


def test_boto3_verifying_the_certificate_uses_rekognition_and_s3(tls_server: ServerProcess) -> None:
    cert = str(tls_server.data_dir / "tls" / "cert.pem")
    rekognition = https_client("rekognition", tls_server.endpoint, verify=cert)
    arn = rekognition.create_project(ProjectName="tls-project")["ProjectArn"]
    names = [p["ProjectArn"] for p in rekognition.describe_projects()["ProjectDescriptions"]]
    assert arn in names
    s3 = https_client("s3", tls_server.endpoint, verify=cert)
    s3.create_bucket(Bucket="tls-bucket")
    s3.put_object(Bucket="tls-bucket", Key="a/b.txt", Body=b"over https")
    assert s3.get_object(Bucket="tls-bucket", Key="a/b.txt")["Body"].read() == b"over https"


def test_aws_cli_with_ca_bundle_works_and_without_it_fails(tls_server: ServerProcess, tmp_path: Path) -> None:
    cert = str(tls_server.data_dir / "tls" / "cert.pem")
    made = aws(tls_server.endpoint, "--ca-bundle", cert, "s3", "mb", "s3://cli-tls", home=tmp_path)
    assert made.returncode == 0, made.stderr
    (tmp_path / "f.txt").write_text("hello")
    copied = aws(tls_server.endpoint, "--ca-bundle", cert, "s3", "cp", str(tmp_path / "f.txt"), "s3://cli-tls/f.txt",
                 home=tmp_path)
    assert copied.returncode == 0, copied.stderr
    listed = aws(tls_server.endpoint, "--ca-bundle", cert, "s3", "ls", "s3://cli-tls/", home=tmp_path)
    assert listed.returncode == 0 and "f.txt" in listed.stdout, listed.stderr
    projects = aws(tls_server.endpoint, "--ca-bundle", cert, "rekognition", "describe-projects", home=tmp_path)
    assert projects.returncode == 0 and "ProjectDescriptions" in projects.stdout, projects.stderr

    refused = aws(tls_server.endpoint, "rekognition", "describe-projects", home=tmp_path)
    assert refused.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr or "SSL" in refused.stderr, refused.stderr


def test_default_verification_refuses_the_self_signed_certificate(
        tls_server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    with pytest.raises(botocore.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        https_client("rekognition", tls_server.endpoint, verify=None).describe_projects()
    # And plain HTTP on the HTTPS port is no way around it.
    with pytest.raises(botocore.exceptions.BotoCoreError):
        https_client("rekognition", tls_server.endpoint.replace("https://", "http://"), verify=None
                     ).describe_projects()


def test_a_restarted_server_reuses_its_certificate(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = ServerProcess(data_dir, env={"OPENREK_TLS": ""}, args=["--tls", "self-signed"])
    with first:
        cert_path = data_dir / "tls" / "cert.pem"
        before = cert_path.read_bytes()
        key_before = (data_dir / "tls" / "key.pem").read_bytes()
        https_client("rekognition", first.endpoint, verify=str(cert_path)).create_project(ProjectName="kept")
        assert first.stop() == 0
    # The second start takes TLS from the environment (OPENREK_TLS), not the flag.
    second = ServerProcess(data_dir, env={"OPENREK_TLS": "self-signed"})
    with second:
        assert second.endpoint.startswith("https://")
        assert cert_path.read_bytes() == before and (data_dir / "tls" / "key.pem").read_bytes() == key_before
        projects = https_client("rekognition", second.endpoint, verify=str(cert_path)).describe_projects()
        assert [p["ProjectArn"].split("/")[1] for p in projects["ProjectDescriptions"]] == ["kept"]


def test_an_explicit_certificate_and_key_are_served(tmp_path: Path) -> None:
    cert_path, key_path = make_pair(tmp_path / "pki", "mine")
    server = ServerProcess(tmp_path / "data", env={"OPENREK_TLS": ""},
                           args=["--tls-cert", str(cert_path), "--tls-key", str(key_path)])
    with server:
        assert server.endpoint.startswith("https://")
        rekognition = https_client("rekognition", server.endpoint, verify=str(cert_path))
        assert rekognition.describe_projects()["ProjectDescriptions"] == []
        localhost = server.endpoint.replace("127.0.0.1", "localhost")  # the DNS name in the SAN verifies too
        s3 = https_client("s3", localhost, verify=str(cert_path))
        s3.create_bucket(Bucket="mine")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["mine"]
        assert not (tmp_path / "data" / "tls").exists()  # nothing self-signed was made
        with pytest.raises(botocore.exceptions.SSLError):  # openrek's own certificate is not what is served
            other, _ = make_pair(tmp_path / "other", "other")
            https_client("rekognition", server.endpoint, verify=str(other)).describe_projects()


def start_failing(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`openrek server ...` through the CLI's passthrough, expected to refuse before it binds."""
    full_env = {**os.environ, "OPENREK_TLS": "", "OPENREK_TLS_CERT": "", "OPENREK_TLS_KEY": "", **(env or {})}
    return subprocess.run([sys.executable, "-m", "openrek.cli.main", "server", "--port", "0",
                           "--data-dir", str(tmp_path / "data"), *args],
                          capture_output=True, text=True, env=full_env, timeout=60)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0
    assert "listening" not in result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_a_mismatched_pair_fails_to_start_with_a_clear_message(tmp_path: Path) -> None:
    cert_a, _ = make_pair(tmp_path / "pki", "a")
    _, key_b = make_pair(tmp_path / "pki", "b")
    result = start_failing(tmp_path, "--tls-cert", str(cert_a), "--tls-key", str(key_b))
    assert_one_line_error(result, "does not match", str(key_b), str(cert_a))
    assert not (tmp_path / "data" / "openrek.db").exists()  # refused before anything was set up


def test_missing_unreadable_or_wrong_files_are_one_line_errors(tmp_path: Path) -> None:
    cert, key = make_pair(tmp_path / "pki", "ok")
    missing = tmp_path / "pki" / "nope.pem"
    assert_one_line_error(start_failing(tmp_path, "--tls-cert", str(missing), "--tls-key", str(key)),
                          "does not exist", str(missing))
    assert_one_line_error(start_failing(tmp_path, "--tls-cert", str(cert), "--tls-key", str(missing)),
                          "does not exist", str(missing))
    assert_one_line_error(start_failing(tmp_path, "--tls-cert", str(key), "--tls-key", str(key)),
                          "not a PEM certificate")
    assert_one_line_error(start_failing(tmp_path, "--tls-cert", str(cert), "--tls-key", str(cert)),
                          "not a PEM private key")
    assert_one_line_error(start_failing(tmp_path, "--tls-cert", str(cert)), "--tls-key")
    assert_one_line_error(start_failing(tmp_path, env={"OPENREK_TLS_KEY": str(key)}), "--tls-cert")
    assert_one_line_error(start_failing(tmp_path, "--tls", "bogus"), "unknown TLS mode")
    assert_one_line_error(start_failing(tmp_path, "--tls-cert", str(cert), "--tls-key", str(tmp_path / "pki")),
                          "is a directory", str(tmp_path / "pki"))

def test_self_signed_is_renewed_when_expired_or_the_host_is_not_covered(tmp_path: Path) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=800)
    files = tls.ensure_self_signed(tmp_path, "127.0.0.1", now=long_ago)  # made two years ago: expired now
    expired = files.cert.read_bytes()
    assert tls.ensure_self_signed(tmp_path, "127.0.0.1").cert.read_bytes() != expired
    current = files.cert.read_bytes()
    assert tls.ensure_self_signed(tmp_path, "127.0.0.1").cert.read_bytes() == current  # still good: reused
    assert tls.ensure_self_signed(tmp_path, "localhost").cert.read_bytes() == current  # covered already
    renewed = tls.ensure_self_signed(tmp_path, "10.1.2.3")
    san = x509.load_pem_x509_certificate(renewed.cert.read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("10.1.2.3") in san.get_values_for_type(x509.IPAddress)
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    tls.check_pair(renewed.cert, renewed.key)
    assert stat.S_IMODE(renewed.key.stat().st_mode) == 0o600
