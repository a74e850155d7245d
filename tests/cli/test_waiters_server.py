"""``openrek rekognition wait …`` and a create/describe round trip against a real openrek server.

Uses the ``fresh_server`` fixture of ``tests/conftest.py`` (a server of its own, with a short
training budget). ``--cli-input-json '{"WaiterConfig": …}'`` shortens the waiter's 120 s delay, as
it would for ``aws``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.oracle import AWS, cli_env, openrek_cmd, run
from tests.support.clients import client
from tests.support.images import upload_classification_set

FAST = json.dumps({"WaiterConfig": {"Delay": 1, "MaxAttempts": 240}})


@pytest.fixture(scope="module")
def trained_setup(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from tests.support.server import ServerProcess

    data = tmp_path_factory.mktemp("cli-waiter") / "data"
    server = ServerProcess(data, env={"OPENREK_TRAINING_BUDGET_S": "10"})
    with server:
        s3 = client("s3", server.endpoint)
        s3.create_bucket(Bucket="cli-train")
        manifest = upload_classification_set(s3, "cli-train", "", ["red", "blue"], per_label=8, size=64)
        s3.put_object(Bucket="cli-train", Key="broken.manifest", Body=b"not json at all\n" * 5)
        yield server.endpoint, manifest


def _ork(args: list[str], home: Path, endpoint: str):  # type: ignore[no-untyped-def]
    return run([*openrek_cmd(), *args], cli_env(home, OPENREK_ENDPOINT=endpoint))


def _create(home: Path, endpoint: str, project: str, manifest: str) -> tuple[str, str]:
    proc = _ork(["rekognition", "create-project", "--project-name", project], home, endpoint)
    assert proc.returncode == 0, proc.stderr
    arn = json.loads(proc.stdout)["ProjectArn"]
    proc = _ork(
        ["rekognition", "create-project-version", "--project-arn", arn, "--version-name", "v1",
         "--output-config", "S3Bucket=cli-train,S3KeyPrefix=out/",
         "--training-data", f"Assets=[{{GroundTruthManifest={{S3Object={{Bucket=cli-train,Name={manifest}}}}}}}]",
         "--testing-data", "AutoCreate=true"],
        home, endpoint,
    )
    assert proc.returncode == 0, proc.stderr
    return arn, json.loads(proc.stdout)["ProjectVersionArn"]


def test_wait_training_completed_succeeds(trained_setup, cli_home: Path) -> None:  # type: ignore[no-untyped-def]
    endpoint, manifest = trained_setup
    project, _version = _create(cli_home, endpoint, "cli-ok", manifest)
    proc = _ork(["rekognition", "wait", "project-version-training-completed", "--project-arn", project,
                 "--version-names", "v1", "--cli-input-json", FAST], cli_home, endpoint)
    if proc.returncode != 0:
        message = _ork(["rekognition", "describe-project-versions", "--project-arn", project, "--query",
                        "ProjectVersionDescriptions[0].StatusMessage", "--output", "text"], cli_home, endpoint).stdout
        pytest.fail(f"training did not complete: {message.strip()}")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    proc = _ork(["rekognition", "describe-project-versions", "--project-arn", project,
                 "--query", "ProjectVersionDescriptions[0].Status", "--output", "text"], cli_home, endpoint)
    assert proc.stdout == "TRAINING_COMPLETED\n"


def test_wait_training_completed_fails_like_aws(trained_setup, cli_home: Path) -> None:  # type: ignore[no-untyped-def]
    endpoint, _manifest = trained_setup
    project, _version = _create(cli_home, endpoint, "cli-broken", "broken.manifest")
    args = ["rekognition", "wait", "project-version-training-completed", "--project-arn", project,
            "--cli-input-json", FAST]
    ork = _ork(args, cli_home, endpoint)
    aws = run([AWS, *args, "--endpoint-url", endpoint], cli_env(cli_home))
    expected = ("\nWaiter ProjectVersionTrainingCompleted failed: Waiter encountered a terminal failure state: "
                'For expression "ProjectVersionDescriptions[].Status" we matched expected path: '
                '"TRAINING_FAILED" at least once\n')
    assert (aws.returncode, aws.stderr) == (255, expected)
    assert (ork.returncode, ork.stdout, ork.stderr) == (255, "", expected)


def test_same_outputs_as_aws_against_the_server(trained_setup, cli_home: Path) -> None:  # type: ignore[no-untyped-def]
    endpoint, _manifest = trained_setup
    env = cli_env(cli_home, AWS_ENDPOINT_URL=endpoint)
    for fmt in ("json", "text", "table"):
        args = ["rekognition", "describe-projects", "--output", fmt]
        aws = run([AWS, *args], env)
        ork = run([*openrek_cmd(), *args], env)
        assert (ork.returncode, ork.stdout, ork.stderr) == (aws.returncode, aws.stdout, aws.stderr)
    args = ["rekognition", "describe-projects", "--project-names", "no-such-project-x"]
    aws, ork = run([AWS, *args], env), run([*openrek_cmd(), *args], env)
    assert (ork.returncode, ork.stdout, ork.stderr) == (aws.returncode, aws.stdout, aws.stderr)


def test_first_command_just_works_with_nothing_configured(tmp_path: Path) -> None:
    """A newcomer's machine: `openrek server` with its default data dir (~/.openrek) and no keys given
    generates root keys there; `openrek` with no credentials or region configured anywhere signs with them."""
    from tests.support.server import ROOT_ENV, ServerProcess

    home = tmp_path / "home"
    server = ServerProcess(home / ".openrek")
    server.env = {k: v for k, v in server.env.items() if not k.startswith("AWS_") and k not in ROOT_ENV}
    with server:
        assert f"written to {home / '.openrek' / 'credentials'} (profile openrek)" in "".join(server.output)
        env = cli_env(home, OPENREK_ENDPOINT=server.endpoint)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
            env.pop(k)
        proc = run([*openrek_cmd(), "rekognition", "create-project", "--project-name", "newcomer"], env)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["ProjectArn"].startswith("arn:aws:rekognition:us-east-1:")
        proc = run([*openrek_cmd(), "rekognition", "describe-projects", "--query",
                    "ProjectDescriptions[?contains(ProjectArn, 'newcomer')].Status", "--output", "text"], env)
        assert (proc.returncode, proc.stdout) == (0, "CREATED\n"), proc.stderr
        # Unsigned requests are refused, and openrek says so as aws does.
        args = ["--region", "us-east-1", "--endpoint-url", server.endpoint, "--no-sign-request", "rekognition",
                "describe-projects"]
        ork, aws = run([*openrek_cmd(), *args], env), run([AWS, *args], env)
        assert ork.returncode == 255 and "(MissingAuthenticationTokenException)" in ork.stderr
        assert (ork.returncode, ork.stdout, ork.stderr) == (aws.returncode, aws.stdout, aws.stderr)
