"""Whole processes: exit codes, --version, --debug, --no-sign-request, TLS, colour, help, defaults.

Each test starts ``aws`` and ``python -m openrek.cli.main`` as real subprocesses against a recording
loopback server (plain or TLS) and compares what matters for that feature.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from tests.cli.corpus import PA, PVA
from tests.cli.oracle import AWS, cli_env, normalize, openrek_cmd, run
from tests.cli.recorder import Recorder

CPV = ["rekognition", "create-project-version", "--project-arn", PA, "--version-name", "v1",
       "--output-config", "S3Bucket=bkt"]


def both(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    return run([AWS, *args], env), run([*openrek_cmd(), *args], env)


@pytest.mark.parametrize(
    "args, rc",
    [
        (CPV, 0),
        (CPV[:4], 2),
        (CPV + ["--bogus"], 255),
        (["rekognition", "create-project-version", "--project-arn", PA, "--version-name", "dup",
          "--output-config", "S3Bucket=bkt"], 255),
        (["rekognition", "nope"], 2),
        ([], 2),
    ],
    ids=["ok", "missing-required", "unknown-option", "service-error", "bad-operation", "no-command"],
)
def test_exit_codes_of_real_processes(args: list[str], rc: int, cli_home: Path, recorder: Recorder) -> None:
    env = cli_env(cli_home, AWS_ENDPOINT_URL=recorder.url)
    aws, ork = both(args, env)
    assert aws.returncode == rc
    assert ork.returncode == rc
    assert normalize(ork.stderr) == normalize(aws.stderr)
    assert ork.stdout == aws.stdout


def test_console_script_if_installed(cli_home: Path, recorder: Recorder) -> None:
    script = shutil.which("openrek", path=str(Path(AWS).parent))
    if script is None:
        pytest.fail("the openrek console script is not installed: run make setup (pip install -e .)")
    proc = run([script, *CPV], cli_env(cli_home, AWS_ENDPOINT_URL=recorder.url))
    assert proc.returncode == 0 and "ProjectVersionArn" in proc.stdout


def test_version(cli_home: Path) -> None:
    proc = run([*openrek_cmd(), "--version"], cli_env(cli_home))
    assert proc.returncode == 0
    assert re.match(r"openrek/\S+ Python/\S+ \S+/\S+ botocore/\S+\n$", proc.stdout)


def test_debug_logs_request_and_response_on_stderr(cli_home: Path, recorder: Recorder) -> None:
    env = cli_env(cli_home, AWS_ENDPOINT_URL=recorder.url)
    aws, ork = both(CPV + ["--debug"], env)
    assert ork.returncode == aws.returncode == 0
    assert ork.stdout == aws.stdout
    for needle in ("DEBUG", "RekognitionService.CreateProjectVersion", '"VersionName": "v1"',
                   "ProjectVersionArn", "Response headers"):
        assert needle in aws.stderr
        assert needle in ork.stderr, needle
    assert " - MainThread - botocore." in ork.stderr


def test_no_sign_request_sends_no_authorization(cli_home: Path, recorder: Recorder) -> None:
    env = cli_env(cli_home, AWS_ENDPOINT_URL=recorder.url)
    aws, ork = both(CPV + ["--no-sign-request"], env)
    assert aws.returncode == ork.returncode == 0
    reqs = recorder.take()
    assert len(reqs) == 2
    assert all("authorization" not in r["headers"] for r in reqs)
    both(CPV, env)
    reqs = recorder.take()
    assert all(r["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") for r in reqs)


def test_local_defaults_when_nothing_is_configured(cli_home: Path, recorder: Recorder, tmp_path: Path) -> None:
    env = cli_env(tmp_path, OPENREK_ENDPOINT=recorder.url)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        env.pop(k)
    proc = run([*openrek_cmd(), *CPV], env)
    assert proc.returncode == 0, proc.stderr
    (req,) = recorder.take()
    assert "Credential=openrek/" in req["headers"]["authorization"]
    assert "/us-east-1/rekognition/" in req["headers"]["authorization"]


def test_default_endpoint_is_the_local_server(cli_home: Path) -> None:
    env = cli_env(cli_home)
    proc = run([*openrek_cmd(), *CPV, "--cli-connect-timeout", "1"], env)
    if proc.returncode == 0:
        pytest.skip("something is listening on 127.0.0.1:4599")
    assert 'Could not connect to the endpoint URL: "http://127.0.0.1:4599/"' in proc.stderr


def test_color_on_table_matches_aws(cli_home: Path, recorder: Recorder) -> None:
    env = cli_env(cli_home, AWS_ENDPOINT_URL=recorder.url)
    args = ["rekognition", "describe-project-versions", "--project-arn", PA, "--output", "table", "--color", "on"]
    aws, ork = both(args, env)
    assert aws.returncode == ork.returncode == 0
    assert "\x1b[" in ork.stdout
    assert ork.stdout == aws.stdout
    off_aws, off_ork = both(args[:-1] + ["off"], env)
    assert "\x1b[" not in off_ork.stdout and off_ork.stdout == off_aws.stdout


# --- TLS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    d = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openrek test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = d / "cert.pem", d / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def tls_recorder(tls_files: tuple[Path, Path]):  # type: ignore[no-untyped-def]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(tls_files[0]), str(tls_files[1]))
    with Recorder(tls=ctx) as rec:
        yield rec


def test_tls_with_ca_bundle(cli_home: Path, tls_recorder: Recorder, tls_files: tuple[Path, Path]) -> None:
    env = cli_env(cli_home)
    args = CPV + ["--endpoint-url", tls_recorder.url, "--ca-bundle", str(tls_files[0])]
    aws, ork = both(args, env)
    assert aws.returncode == ork.returncode == 0, ork.stderr
    assert ork.stdout == aws.stdout
    assert len(tls_recorder.take()) == 2


def test_tls_ca_bundle_from_environment(cli_home: Path, tls_recorder: Recorder, tls_files: tuple[Path, Path]) -> None:
    env = cli_env(cli_home, AWS_CA_BUNDLE=str(tls_files[0]))
    ork = run([*openrek_cmd(), *CPV, "--endpoint-url", tls_recorder.url], env)
    assert ork.returncode == 0, ork.stderr


def test_tls_without_trust_fails_like_aws(cli_home: Path, tls_recorder: Recorder) -> None:
    env = cli_env(cli_home, AWS_MAX_ATTEMPTS="1")  # no retries: both CLIs read this the same way
    aws, ork = both(CPV + ["--endpoint-url", tls_recorder.url], env)
    assert aws.returncode == ork.returncode == 255
    assert "SSL validation failed" in ork.stderr
    assert normalize(ork.stderr) == normalize(aws.stderr)


def test_tls_no_verify_ssl(cli_home: Path, tls_recorder: Recorder) -> None:
    env = cli_env(cli_home)
    aws, ork = both(CPV + ["--endpoint-url", tls_recorder.url, "--no-verify-ssl"], env)
    assert aws.returncode == ork.returncode == 0, ork.stderr
    assert ork.stdout == aws.stdout
    assert ork.stderr == aws.stderr


# --- help -------------------------------------------------------------------------------------


def _aws_synopsis(args: list[str], env: dict[str, str]) -> list[str]:
    text = run([AWS, *args, "help"], {**env, "PAGER": "cat", "MANPAGER": "cat"}).stdout
    text = re.sub(".\x08", "", text)
    block = text.split("SYNOPSIS", 1)[1].split("OPTIONS", 1)[0]
    return re.findall(r"--[a-z0-9-]+", block)


def _openrek_synopsis(text: str) -> list[str]:
    block = text.split("SYNOPSIS", 1)[1].split("OPTIONS", 1)[0]
    return re.findall(r"--[a-z0-9-]+", block)


@pytest.mark.skipif(shutil.which("groff") is None, reason="aws help needs groff")
@pytest.mark.parametrize("command", [["rekognition", "create-project-version"], ["rekognition", "describe-projects"],
                                     ["rekognition", "detect-custom-labels"], ["rekognition", "list-dataset-entries"],
                                     ["rekognition", "wait", "project-version-running"]])
def test_help_synopsis_order_matches_aws(command: list[str], cli_home: Path) -> None:
    env = cli_env(cli_home)
    ork = run([*openrek_cmd(), *command, "help"], env)
    assert ork.returncode == 0
    assert _openrek_synopsis(ork.stdout) == _aws_synopsis(command, env)
    dashed = run([*openrek_cmd(), *command, "--help"], env)
    assert dashed.stdout == ork.stdout


def test_waiter_progress_on_a_tty_and_quiet_when_piped(cli_home: Path, recorder: Recorder) -> None:
    import pty

    env = cli_env(cli_home, AWS_ENDPOINT_URL=recorder.url, COLUMNS="120", TERM="xterm")
    args = [*openrek_cmd(), "rekognition", "wait", "project-version-training-completed", "--project-arn", PA]
    piped = run(args, env)
    assert (piped.returncode, piped.stdout, piped.stderr) == (0, "", "")
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=child_fd)
    os.close(child_fd)
    chunks = []
    while True:
        try:
            data = os.read(main_fd, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=60) == 0
    os.close(main_fd)
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert "project-version-training-completed" in shown
    assert "TRAINING_COMPLETED" in shown
    assert PVA  # the canned version


def test_every_operation_has_help() -> None:
    import io
    from contextlib import redirect_stdout

    from openrek.cli.main import main
    from openrek.cli.model import load_service_model
    from openrek.cli.naming import kebab

    for name in load_service_model().operation_names:
        buf = io.StringIO()
        with redirect_stdout(buf):
            assert main(["rekognition", kebab(name), "help"]) == 0
        text = buf.getvalue()
        assert text.startswith("NAME\n") and "SYNOPSIS" in text and "GLOBAL OPTIONS" in text, name


def test_profiles_and_region_resolve_like_aws(tmp_path: Path, recorder: Recorder) -> None:
    (tmp_path / "config").write_text("[default]\nregion = ap-south-1\n\n[profile dev]\nregion = eu-west-1\n"
                                     "output = text\n")
    (tmp_path / "credentials").write_text("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n"
                                          "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s2\n")
    env = cli_env(tmp_path, AWS_ENDPOINT_URL=recorder.url)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        env.pop(k)
    for extra in ([], ["--profile", "dev"], ["--profile", "dev", "--region", "us-west-2"]):
        aws, ork = both(CPV + extra, env)
        assert (ork.returncode, ork.stdout, ork.stderr) == (aws.returncode, aws.stdout, aws.stderr)
        a, o = recorder.take()
        assert o["headers"]["authorization"].split("Credential=")[1].split(",")[0].split("/", 2)[::2] == \
            a["headers"]["authorization"].split("Credential=")[1].split(",")[0].split("/", 2)[::2]
    env["AWS_PROFILE"] = "dev"
    aws, ork = both(CPV, env)
    assert (ork.returncode, ork.stdout) == (aws.returncode, aws.stdout)
    assert "\t" not in aws.stdout or ork.stdout == aws.stdout


def test_server_command_delegates(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    from openrek.cli import main as cli_main

    seen: list[list[str]] = []
    fake = types.ModuleType("openrek.server")
    fake.main = lambda argv: seen.append(argv) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "openrek.server", fake)
    assert cli_main.main(["server", "--port", "0"]) == 0
    assert cli_main.main(["--region", "eu-west-1", "server", "--data-dir", "x"]) == 0
    assert seen == [["--port", "0"], ["--data-dir", "x"]]
