"""The oracle corpus: argument lists run through both ``aws`` (v1) and ``openrek``.

Every option of create-project-version in shorthand, JSON and ``file://`` forms, ``--cli-input-json``
with overrides, edge-case shorthand, wrong types, missing options, and the other Custom Labels
operations, each under the output formats and queries worth comparing.
"""

from __future__ import annotations

import json
from pathlib import Path

PA = "arn:aws:rekognition:us-east-1:000000000000:project/my-project/1700000000000"
PVA = "arn:aws:rekognition:us-east-1:000000000000:project/my-project/version/v1/1700000000001"
DSA = PA + "/dataset/train/1700000000002"

CPV = ["rekognition", "create-project-version"]
REQ = ["--project-arn", PA, "--version-name", "v1"]
OUT = ["--output-config", "S3Bucket=bkt,S3KeyPrefix=out/"]


def write_files(d: Path) -> None:
    """The files the corpus refers to as ``{dir}/...``."""
    (d / "output-config.json").write_text('{"S3Bucket": "from-file", "S3KeyPrefix": "p/"}')
    (d / "output-config.sh").write_text("S3Bucket=sh-file,S3KeyPrefix=q/")
    (d / "training.json").write_text(
        json.dumps({"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "bkt", "Name": "train.manifest"}}}]})
    )
    (d / "testing.json").write_text(json.dumps({"AutoCreate": True}))
    (d / "tags.json").write_text(json.dumps({"team": "vision", "cost-center": "42"}))
    (d / "feature.json").write_text(json.dumps({"ContentModeration": {"ConfidenceThreshold": 75.5}}))
    (d / "desc.txt").write_text("A description\nwith two lines and ünïcode")
    (d / "arn.txt").write_text(PA)
    (d / "kms.txt").write_text("alias/my-key")
    (d / "name.txt").write_text("v-from-file")
    (d / "input.json").write_text(
        json.dumps(
            {
                "ProjectArn": PA,
                "VersionName": "from-json",
                "OutputConfig": {"S3Bucket": "json-bucket", "S3KeyPrefix": "json/"},
                "TestingData": {"AutoCreate": True},
                "Tags": {"a": "1"},
            }
        )
    )
    (d / "bad.json").write_text('{"ProjectArn": ')
    (d / "image.jpg").write_bytes(bytes(range(256)) * 4)
    (d / "latin1.txt").write_bytes(b"caf\xe9")
    (d / "entries.json").write_text(json.dumps({"GroundTruth": '{"source-ref": "s3://b/1.jpg"}\n'}))


CASES: list[tuple[str, list[str]]] = [
    # --- create-project-version: each option in shorthand, JSON and file:// forms -------------
    ("cpv-minimal", CPV + REQ + OUT),
    ("cpv-output-config-json", CPV + REQ + ["--output-config", '{"S3Bucket": "bkt", "S3KeyPrefix": "out/"}']),
    ("cpv-output-config-file-json", CPV + REQ + ["--output-config", "file://{dir}/output-config.json"]),
    ("cpv-output-config-file-shorthand", CPV + REQ + ["--output-config", "file://{dir}/output-config.sh"]),
    ("cpv-project-arn-file", CPV + ["--project-arn", "file://{dir}/arn.txt", "--version-name", "v1"] + OUT),
    ("cpv-version-name-file", CPV + ["--project-arn", PA, "--version-name", "file://{dir}/name.txt"] + OUT),
    ("cpv-training-shorthand",
     CPV + REQ + OUT + ["--training-data", "Assets=[{GroundTruthManifest={S3Object={Bucket=bkt,Name=k,Version=3}}}]"]),
    ("cpv-training-json",
     CPV + REQ + OUT + ["--training-data", '{"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "bkt", "Name": "k"}}}]}']),
    ("cpv-training-file", CPV + REQ + OUT + ["--training-data", "file://{dir}/training.json"]),
    ("cpv-training-two-assets",
     CPV + REQ + OUT + ["--training-data",
                        "Assets=[{GroundTruthManifest={S3Object={Bucket=bkt,Name=a}}},{GroundTruthManifest={S3Object={Bucket=bkt,Name=c}}}]"]),
    ("cpv-testing-autocreate", CPV + REQ + OUT + ["--testing-data", "AutoCreate=true"]),
    ("cpv-testing-autocreate-false-caps", CPV + REQ + OUT + ["--testing-data", "AutoCreate=FALSE"]),
    ("cpv-testing-autocreate-bad-bool", CPV + REQ + OUT + ["--testing-data", "AutoCreate=yes"]),
    ("cpv-testing-json", CPV + REQ + OUT + ["--testing-data", '{"AutoCreate": false}']),
    ("cpv-testing-file", CPV + REQ + OUT + ["--testing-data", "file://{dir}/testing.json"]),
    ("cpv-testing-assets-and-autocreate",
     CPV + REQ + OUT + ["--testing-data", "Assets=[{GroundTruthManifest={S3Object={Bucket=bkt,Name=t}}}],AutoCreate=false"]),
    ("cpv-tags-shorthand", CPV + REQ + OUT + ["--tags", "KeyName1=v1,KeyName2=v2"]),
    ("cpv-tags-json", CPV + REQ + OUT + ["--tags", '{"team": "vision"}']),
    ("cpv-tags-file", CPV + REQ + OUT + ["--tags", "file://{dir}/tags.json"]),
    ("cpv-tags-empty-value", CPV + REQ + OUT + ["--tags", "k="]),
    ("cpv-tags-quoted-comma", CPV + REQ + OUT + ["--tags", "k='a,b',j=\"c d\""]),
    ("cpv-tags-escaped-comma", CPV + REQ + OUT + ["--tags", "k=a\\,b,j=c"]),
    ("cpv-tags-list-value", CPV + REQ + OUT + ["--tags", "k=a,b,c"]),
    ("cpv-tags-duplicate-key", CPV + REQ + OUT + ["--tags", "k=a,k=b"]),
    ("cpv-tags-whitespace", CPV + REQ + OUT + ["--tags", " k = v , j = w "]),
    ("cpv-kms", CPV + REQ + OUT + ["--kms-key-id", "alias/my-key"]),
    ("cpv-kms-file", CPV + REQ + OUT + ["--kms-key-id", "file://{dir}/kms.txt"]),
    ("cpv-description", CPV + REQ + OUT + ["--version-description", "first try, with commas=and equals"]),
    ("cpv-description-file", CPV + REQ + OUT + ["--version-description", "file://{dir}/desc.txt"]),
    ("cpv-description-url", CPV + REQ + OUT + ["--version-description", "{url}/text"]),
    ("cpv-description-url-404", CPV + REQ + OUT + ["--version-description", "{url}/missing"]),
    ("cpv-feature-shorthand", CPV + REQ + OUT + ["--feature-config", "ContentModeration={ConfidenceThreshold=50}"]),
    ("cpv-feature-json", CPV + REQ + OUT + ["--feature-config", '{"ContentModeration": {"ConfidenceThreshold": 60}}']),
    ("cpv-feature-file", CPV + REQ + OUT + ["--feature-config", "file://{dir}/feature.json"]),
    ("cpv-feature-not-a-number", CPV + REQ + OUT + ["--feature-config", "ContentModeration={ConfidenceThreshold=high}"]),
    ("cpv-all-options",
     CPV + REQ + OUT + ["--training-data", "file://{dir}/training.json", "--testing-data", "AutoCreate=true",
                        "--tags", "a=b", "--kms-key-id", "k", "--version-description", "d",
                        "--feature-config", "ContentModeration={ConfidenceThreshold=50}"]),
    ("cpv-options-reordered", CPV + OUT + ["--version-name", "v1", "--project-arn", PA, "--tags", "x=y"]),
    ("cpv-equals-form", CPV + ["--project-arn=" + PA, "--version-name=v1", "--output-config=S3Bucket=bkt"]),
    # --- shorthand and JSON errors ---------------------------------------------------------
    ("cpv-shorthand-unknown-key", CPV + REQ + ["--output-config", "S3Bucket=bkt,Foo=1"]),
    ("cpv-shorthand-trailing-comma", CPV + REQ + ["--output-config", "S3Bucket=bkt,"]),
    ("cpv-shorthand-missing-equals", CPV + REQ + ["--output-config", "S3Bucket"]),
    ("cpv-shorthand-unclosed-brace", CPV + REQ + OUT + ["--feature-config", "ContentModeration={ConfidenceThreshold=50"]),
    ("cpv-shorthand-unclosed-list", CPV + REQ + OUT + ["--training-data", "Assets=[{GroundTruthManifest={}}"]),
    ("cpv-shorthand-empty", CPV + REQ + ["--output-config", ""]),
    ("cpv-shorthand-newline", CPV + REQ + ["--output-config", "S3Bucket=a,\nS3KeyPrefix"]),
    ("cpv-json-invalid", CPV + REQ + ["--output-config", '{"S3Bucket": bkt}']),
    ("cpv-json-list-for-structure", CPV + REQ + ["--output-config", '[{"S3Bucket": "bkt"}]']),
    ("cpv-json-wrong-member-type", CPV + REQ + ["--output-config", '{"S3Bucket": 5}']),
    ("cpv-file-missing", CPV + REQ + ["--output-config", "file://{dir}/nope.json"]),
    ("cpv-file-not-text", CPV + REQ + OUT + ["--version-description", "file://{dir}/latin1.txt"]),
    # --- validation, usage errors --------------------------------------------------------
    ("cpv-short-arn", CPV + ["--project-arn", "x", "--version-name", "v"] + OUT),
    ("cpv-bad-version-name", CPV + ["--project-arn", PA, "--version-name", "bad name!"] + OUT),
    ("cpv-missing-output-config", CPV + REQ),
    ("cpv-missing-all", CPV),
    ("cpv-option-without-value", CPV + REQ + ["--output-config"]),
    ("cpv-unknown-option", CPV + REQ + OUT + ["--bogus", "1"]),
    ("cpv-abbreviated-option", CPV + REQ + ["--output-conf", "S3Bucket=b"]),
    ("cpv-typo-operation", ["rekognition", "create-project-versio"] + REQ),
    ("cpv-no-operation", ["rekognition"]),
    ("cpv-service-error", CPV + ["--project-arn", PA, "--version-name", "dup"] + OUT),
    ("cpv-service-error-text", CPV + ["--project-arn", PA, "--version-name", "dup"] + OUT + ["--output", "text"]),
    ("cpv-bad-output-format", CPV + REQ + OUT + ["--output", "xml"]),
    ("cpv-bad-query", CPV + REQ + OUT + ["--query", "ProjectVersionArn[", ]),
    ("cpv-bad-endpoint", CPV + REQ + OUT + ["--endpoint-url", "localhost:1"]),
    # --- cli-input-json and skeletons ----------------------------------------------------
    ("cpv-cli-input-json-file", CPV + ["--cli-input-json", "file://{dir}/input.json"]),
    ("cpv-cli-input-json-override", CPV + ["--cli-input-json", "file://{dir}/input.json", "--version-name", "cli-wins",
                                            "--output-config", "S3Bucket=cli-bucket"]),
    ("cpv-cli-input-json-string", CPV + ["--cli-input-json",
                                         json.dumps({"ProjectArn": PA, "VersionName": "s", "OutputConfig": {"S3Bucket": "bbb"}})]),
    ("cpv-cli-input-json-invalid", CPV + ["--cli-input-json", "file://{dir}/bad.json"]),
    ("cpv-cli-input-json-missing-file", CPV + ["--cli-input-json", "file://{dir}/absent.json"]),
    ("cpv-cli-input-json-incomplete", CPV + ["--cli-input-json", '{"ProjectArn": "' + PA + '"}']),
    ("cpv-cli-input-json-unknown-key", CPV + ["--cli-input-json", '{"Nope": 1}'] + REQ + OUT),
    ("cpv-skeleton-input", CPV + ["--generate-cli-skeleton", "input"]),
    ("cpv-skeleton-default", CPV + ["--generate-cli-skeleton"]),
    ("cpv-skeleton-bad-choice", CPV + ["--generate-cli-skeleton", "yaml"]),
    ("cpv-skeleton-output", CPV + REQ + OUT + ["--generate-cli-skeleton", "output"]),
    ("cpv-skeleton-output-missing-required", CPV + ["--generate-cli-skeleton", "output"]),
    ("cpv-skeleton-with-bad-param", CPV + ["--generate-cli-skeleton", "--output-config", "S3Bucket="]),
    # --- outputs and queries -------------------------------------------------------------
    ("cpv-text", CPV + REQ + OUT + ["--output", "text"]),
    ("cpv-table", CPV + REQ + OUT + ["--output", "table"]),
    ("cpv-query", CPV + REQ + OUT + ["--query", "ProjectVersionArn", "--output", "text"]),
    ("cpv-query-json", CPV + REQ + OUT + ["--query", "{arn: ProjectVersionArn}"]),
    ("cpv-explicit-endpoint", CPV + REQ + OUT + ["--endpoint-url", "{url}"]),
    ("cpv-region", CPV + REQ + OUT + ["--region", "eu-west-1"]),
    ("cpv-unknown-profile", CPV + REQ + OUT + ["--profile", "nope"]),
    ("cpv-read-timeout", CPV + REQ + OUT + ["--cli-read-timeout", "5", "--cli-connect-timeout", "0"]),
    ("cpv-read-timeout-bad", CPV + REQ + OUT + ["--cli-read-timeout", "soon"]),
    ("cpv-global-options-first", ["--output", "text", "--query", "ProjectVersionArn"] + CPV + REQ + OUT),
    ("cpv-bad-color", CPV + REQ + OUT + ["--color", "sometimes"]),
    ("cpv-table-color-off", CPV + REQ + OUT + ["--output", "table", "--color", "off"]),
    ("cpv-no-verify-ssl-http", CPV + REQ + OUT + ["--no-verify-ssl"]),
    # --- other Custom Labels operations ------------------------------------------------------
    ("cp", ["rekognition", "create-project", "--project-name", "my-project"]),
    ("cp-feature-tags", ["rekognition", "create-project", "--project-name", "p", "--feature", "CONTENT_MODERATION",
                         "--auto-update", "ENABLED", "--tags", "a=b", "--output", "table"]),
    ("cp-in-use", ["rekognition", "create-project", "--project-name", "in-use"]),
    ("cp-bad-enum", ["rekognition", "create-project", "--project-name", "p", "--feature", "NOPE"]),
    ("dp", ["rekognition", "describe-projects"]),
    ("dp-text", ["rekognition", "describe-projects", "--output", "text"]),
    ("dp-table", ["rekognition", "describe-projects", "--output", "table"]),
    ("dp-no-paginate", ["rekognition", "describe-projects", "--no-paginate"]),
    ("dp-max-items", ["rekognition", "describe-projects", "--max-items", "1"]),
    ("dp-max-items-text", ["rekognition", "describe-projects", "--max-items", "1", "--output", "text"]),
    ("dp-page-size", ["rekognition", "describe-projects", "--page-size", "2", "--query", "ProjectDescriptions[].Status"]),
    ("dp-max-results", ["rekognition", "describe-projects", "--max-results", "2"]),
    ("dp-no-paginate-max-items", ["rekognition", "describe-projects", "--no-paginate", "--max-items", "1"]),
    ("dp-max-items-zero", ["rekognition", "describe-projects", "--max-items", "0", "--no-paginate"]),
    ("dp-starting-token", ["rekognition", "describe-projects", "--starting-token",
                           "eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAxfQ==", "--output", "text"]),
    ("dp-starting-token-bad", ["rekognition", "describe-projects", "--starting-token", "garbage"]),
    ("dp-names", ["rekognition", "describe-projects", "--project-names", "a", "b", "--features", "CUSTOM_LABELS"]),
    ("dp-names-json", ["rekognition", "describe-projects", "--project-names", '["a", "b"]']),
    ("dp-query-text", ["rekognition", "describe-projects", "--query", "ProjectDescriptions[].[ProjectArn,Status]",
                       "--output", "text"]),
    ("dp-query-table", ["rekognition", "describe-projects", "--query", "ProjectDescriptions[].{A:ProjectArn,S:Status}",
                        "--output", "table"]),
    ("dp-query-scalar", ["rekognition", "describe-projects", "--query", "length(ProjectDescriptions)"]),
    ("dp-skeleton", ["rekognition", "describe-projects", "--generate-cli-skeleton", "output"]),
    ("dpv", ["rekognition", "describe-project-versions", "--project-arn", PA]),
    ("dpv-text", ["rekognition", "describe-project-versions", "--project-arn", PA, "--output", "text"]),
    ("dpv-table", ["rekognition", "describe-project-versions", "--project-arn", PA, "--output", "table"]),
    ("dpv-names", ["rekognition", "describe-project-versions", "--project-arn", PA, "--version-names", "v1", "v2",
                   "--query", "ProjectVersionDescriptions[0].EvaluationResult"]),
    ("dpv-max-results-bad", ["rekognition", "describe-project-versions", "--project-arn", PA, "--max-results", "many"]),
    ("spv", ["rekognition", "start-project-version", "--project-version-arn", PVA, "--min-inference-units", "1"]),
    ("spv-max-units", ["rekognition", "start-project-version", "--project-version-arn", PVA, "--min-inference-units", "1",
                       "--max-inference-units", "3", "--output", "text"]),
    ("spv-bad-int", ["rekognition", "start-project-version", "--project-version-arn", PVA, "--min-inference-units", "1.5"]),
    ("stpv", ["rekognition", "stop-project-version", "--project-version-arn", PVA]),
    ("stpv-skeleton-output", ["rekognition", "stop-project-version", "--project-version-arn", PVA,
                              "--generate-cli-skeleton", "output", "--output", "text"]),
    ("dcl-bytes", ["rekognition", "detect-custom-labels", "--project-version-arn", PVA, "--image-bytes",
                   "fileb://{dir}/image.jpg"]),
    ("dcl-s3", ["rekognition", "detect-custom-labels", "--project-version-arn", PVA, "--image",
                "S3Object={Bucket=bkt,Name=k.jpg}", "--min-confidence", "40", "--max-results", "5", "--output", "text"]),
    ("dcl-image-bytes-json", ["rekognition", "detect-custom-labels", "--project-version-arn", PVA, "--image",
                              '{"Bytes": "aGVsbG8="}']),
    ("dcl-table", ["rekognition", "detect-custom-labels", "--project-version-arn", PVA, "--image-bytes",
                   "fileb://{dir}/image.jpg", "--output", "table"]),
    ("dcl-min-confidence-bad", ["rekognition", "detect-custom-labels", "--project-version-arn", PVA, "--image-bytes",
                                "fileb://{dir}/image.jpg", "--min-confidence", "high"]),
    ("dcl-missing-image", ["rekognition", "detect-custom-labels", "--project-version-arn", PVA]),
    ("dpvers", ["rekognition", "delete-project-version", "--project-version-arn", PVA]),
    ("dproj", ["rekognition", "delete-project", "--project-arn", PA, "--output", "text"]),
    ("cds", ["rekognition", "create-dataset", "--project-arn", PA, "--dataset-type", "TRAIN", "--dataset-source",
             "GroundTruthManifest={S3Object={Bucket=bkt,Name=m.manifest}}"]),
    ("cds-copy", ["rekognition", "create-dataset", "--project-arn", PA, "--dataset-type", "TEST", "--dataset-source",
                  "DatasetArn=" + DSA]),
    ("dds", ["rekognition", "describe-dataset", "--dataset-arn", DSA, "--output", "table"]),
    ("lde", ["rekognition", "list-dataset-entries", "--dataset-arn", DSA]),
    ("lde-flags", ["rekognition", "list-dataset-entries", "--dataset-arn", DSA, "--labeled", "--no-has-errors",
                   "--contains-labels", "cat", "dog", "--output", "text"]),
    ("lde-max-items", ["rekognition", "list-dataset-entries", "--dataset-arn", DSA, "--max-items", "1", "--output", "text"]),
    ("lde-no-labeled", ["rekognition", "list-dataset-entries", "--dataset-arn", DSA, "--no-labeled"]),
    ("ldl", ["rekognition", "list-dataset-labels", "--dataset-arn", DSA, "--output", "table"]),
    ("ude", ["rekognition", "update-dataset-entries", "--dataset-arn", DSA, "--changes", "file://{dir}/entries.json"]),
    ("ude-shorthand", ["rekognition", "update-dataset-entries", "--dataset-arn", DSA, "--changes",
                       "GroundTruth='{\"source-ref\": \"s3://b/1.jpg\"}'"]),
    ("dde", ["rekognition", "distribute-dataset-entries", "--datasets", "Arn=" + DSA, "Arn=" + DSA.replace("train", "test")]),
    ("tag", ["rekognition", "tag-resource", "--resource-arn", PA, "--tags", "a=b,c=d"]),
    ("untag", ["rekognition", "untag-resource", "--resource-arn", PA, "--tag-keys", "a", "c"]),
    ("ltags", ["rekognition", "list-tags-for-resource", "--resource-arn", PA, "--output", "text"]),
    ("ltags-table", ["rekognition", "list-tags-for-resource", "--resource-arn", PA, "--output", "table"]),
    ("copy", ["rekognition", "copy-project-version", "--source-project-arn", PA, "--source-project-version-arn", PVA,
              "--destination-project-arn", PA, "--version-name", "copy", "--output-config", "S3Bucket=bkt"]),
    ("help-positional-extra", ["rekognition", "describe-projects", "extra"]),
    ("wait-missing-sub", ["rekognition", "wait"]),
    ("wait-bad-sub", ["rekognition", "wait", "project-version-trained"]),
    ("wait-trained", ["rekognition", "wait", "project-version-training-completed", "--project-arn", PA]),
    ("wait-failed", ["rekognition", "wait", "project-version-training-completed", "--project-arn",
                     PA.replace("my-project", "failing")]),
]

# Where aws v1 fails and openrek does better (documented): v1's sample output for these breaks the
# output shape's own length limits, so v1 exits 255 with a parameter validation error.
BETTER_THAN_AWS = {"cpv-skeleton-output", "dp-skeleton"}

assert len({c[0] for c in CASES}) == len(CASES), "case ids must be unique"
assert BETTER_THAN_AWS <= {c[0] for c in CASES}


def _random_cases(n: int, seed: int = 2026) -> list[tuple[str, list[str]]]:
    """Deterministic random argument lists over a vocabulary of good and bad values (differential fuzz)."""
    import random

    rnd = random.Random(seed)
    vocab: dict[str, dict[str, list[str] | None]] = {
        "create-project-version": {
            "--output-config": ["S3Bucket=bkt", '{"S3Bucket":"bkt"}', "S3Bucket='a,b'", "", "x", "{", "S3Bucket=bkt,"],
            "--training-data": ["Assets=[]", "Assets=[{}]", "file://{dir}/training.json", "fileb://{dir}/image.jpg",
                                "Assets={GroundTruthManifest={S3Object={Bucket=bkt,Name=n}}}"],
            "--testing-data": ["AutoCreate=true", "AutoCreate=1", " [ ] ", "AutoCreate=true,Assets=[]"],
            "--tags": ["a=b", "a=", "=b", "a=[b]", "a={b=c}", "a=b c=d", "a\\,b=c", "'a'='b'", "a@=file://{dir}/kms.txt"],
            "--feature-config": ["ContentModeration={ConfidenceThreshold=1e2}", "ContentModeration={}",
                                 "ContentModeration=5", "ContentModeration={ConfidenceThreshold=}"],
            "--version-description": ["a=b c=d", "file://{dir}/desc.txt", ""],
            "--generate-cli-skeleton": ["input", "bad"],
            "--output": ["json", "text", "table", "xml"],
            "--query": ["ProjectVersionArn", "[", "@"],
            "--bogus": None,
        },
        "describe-projects": {
            "--project-names": ["a", '["x"]', ""], "--features": ["CUSTOM_LABELS", "X"],
            "--max-items": ["1", "0", "-1", "x"], "--page-size": ["1", "x"], "--next-token": ["page2"],
            "--max-results": ["1", "x"], "--no-paginate": None, "--output": ["text", "table"],
            "--query": ["ProjectDescriptions[0]", "NextToken", "x["],
        },
        "detect-custom-labels": {
            "--project-version-arn": [PVA, "x"], "--image": ["S3Object={Bucket=bkt,Name=k}", "Bytes=abc"],
            "--image-bytes": ["fileb://{dir}/image.jpg", "raw text"], "--max-results": ["1", "x"],
            "--min-confidence": ["50", "5e1", "x"], "--output": ["text", "table"],
        },
        "list-dataset-entries": {
            "--dataset-arn": [DSA, "short"], "--labeled": None, "--no-labeled": None, "--has-errors": None,
            "--max-items": ["1"], "--output": ["text", "table"],
        },
    }
    required = {"create-project-version": ["--project-arn", PA, "--version-name", "v1"]}
    out = []
    for i in range(n):
        op = rnd.choice(list(vocab))
        args = ["rekognition", op] + (required.get(op, []) if rnd.random() < 0.85 else [])
        for _ in range(rnd.randint(0, 4)):
            opt = rnd.choice(list(vocab[op]))
            args.append(opt)
            values = vocab[op][opt]
            if values is not None:
                args.append(rnd.choice(values))
        out.append((f"random-{i:02d}", args))
    return out


CASES += _random_cases(40)
assert len({c[0] for c in CASES}) == len(CASES), "case ids must be unique"
