"""``openrek models export``: download a trained version's ONNX model and its ``model.json``.

Not an AWS command: it speaks HTTP to the server's ``GET /_openrek/model-export`` endpoint, with the
same endpoint, credentials, region, TLS and timeout settings as ``openrek rekognition …`` (requests are
SigV4-signed unless ``--no-sign-request``). After ``models``, ``--output`` names the ONNX file to write;
the output format of this command is always JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from openrek.cli.arguments import PROG, ArgParser, CommandChoices, UnknownArgumentError
from openrek.cli.openrek_http import OpenrekHttp, OpenrekHttpError

EXPORT_PATH = "/_openrek/model-export"
SUBCOMMANDS = ["export", "help"]
_CHUNK = 1024 * 1024

HELP = f"""NAME
       models -

DESCRIPTION
       Commands of openrek itself, beside the AWS ones: your models are yours to take.

AVAILABLE COMMANDS
       o export

SYNOPSIS
          {PROG} models export
          --project-version-arn <value>
          --output <path of the .onnx file to write>
          [--metadata-output <path of the .json file to write>]

       Downloads the ONNX model of a trained project version and its model.json (labels, per-label
       thresholds, input size and preprocessing). model.json goes next to the ONNX file, with the same
       name and the suffix .json, unless --metadata-output names another path. Prints a JSON summary.
       The version must have finished training (TRAINING_COMPLETED, or started/stopped since).

       Running the model with plain onnxruntime: see docs/model-export.md.
"""


class ExportError(Exception):
    """The server refused the export; the message reads like AWS CLI's service errors."""


def _export_parser() -> ArgParser:
    from openrek.cli.main import GLOBAL_OPTIONS

    parser = ArgParser()
    parser.add_argument("--project-version-arn", required=True, dest="project_version_arn")
    parser.add_argument("--output", required=True, dest="model_output")
    parser.add_argument("--metadata-output", dest="metadata_output")
    # Global options may follow the command, as everywhere in the CLI; --output is this command's own.
    for name, kwargs, _doc in GLOBAL_OPTIONS:
        if name not in ("output", "version"):
            parser.add_argument("--" + name, **{**kwargs, "default": argparse.SUPPRESS})
    return parser


def parse(args: list[str], g: argparse.Namespace) -> argparse.Namespace:
    """Parse what follows ``models``; global options found there are set on `g`."""
    parser = ArgParser()
    parser.add_argument("subcommand", action=CommandChoices, table=SUBCOMMANDS)
    if args[:1] == ["--help"]:
        args = ["help"]
    if parser.parse_args(args[:1]).subcommand == "help" or args[1:2] in (["help"], ["--help"]):
        return argparse.Namespace(subcommand="help")
    parsed, unknown = _export_parser().parse_known_args(args[1:], namespace=g)
    if unknown:
        raise UnknownArgumentError(f"Unknown options: {', '.join(unknown)}")
    return argparse.Namespace(subcommand="export", project_version_arn=parsed.project_version_arn,
                              model_output=parsed.model_output, metadata_output=parsed.metadata_output)


def run(args: argparse.Namespace, g: argparse.Namespace) -> int:
    if args.subcommand == "help":
        sys.stdout.write(HELP)
        return 0
    model_path = Path(args.model_output)
    metadata_path = Path(args.metadata_output) if args.metadata_output else model_path.with_suffix(".json")
    if metadata_path.resolve() == model_path.resolve():
        raise ValueError(f"--output and the metadata file are the same path ({model_path}); name the ONNX "
                         "file *.onnx, or give --metadata-output.")
    fetch = _Fetcher(g)
    description = fetch.read(args.project_version_arn, "model.json")
    labels = json.loads(description).get("labels", [])
    size = fetch.save(args.project_version_arn, "model.onnx", model_path)
    _write_atomically(metadata_path, [description])
    summary = {"ProjectVersionArn": args.project_version_arn, "ModelFile": str(model_path),
               "ModelBytes": size, "MetadataFile": str(metadata_path), "Labels": labels}
    sys.stdout.write(json.dumps(summary, indent=4) + "\n")
    return 0


def _write_atomically(path: Path, chunks: Any) -> int:
    """Write the chunks to `path` through a temporary file beside it; returns the byte count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    size = 0
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
                size += len(chunk)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return size


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _Fetcher:
    """Signed GETs of the export endpoint (see openrek_http.py)."""

    def __init__(self, g: argparse.Namespace) -> None:
        self.http = OpenrekHttp(g, "models-export")

    def _send(self, arn: str, name: str, stream: bool) -> Any:
        try:
            return self.http.send("GET", EXPORT_PATH, "ExportModel", {"ProjectVersionArn": arn, "File": name},
                                  stream=stream)
        except OpenrekHttpError as exc:
            raise ExportError(str(exc)) from None

    def read(self, arn: str, name: str) -> bytes:
        return bytes(self._send(arn, name, stream=False).content)

    def save(self, arn: str, name: str, path: Path) -> int:
        raw = self._send(arn, name, stream=True).raw
        try:
            return _write_atomically(path, raw.stream(_CHUNK, decode_content=False))
        finally:
            raw.release_conn()
