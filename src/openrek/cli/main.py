"""Entry point of ``openrek``: global options, then ``rekognition <operation>``, ``wait``, ``models``,
``datasets``, ``accounts`` or ``server``.

Parsing, messages and exit codes follow AWS CLI v1: argparse usage errors exit 2; unknown options,
parameter errors, service errors and waiter failures print ``\\n<message>\\n`` on stderr and exit 255.
botocore is imported only when a request is sent.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from openrek.cli.arguments import PROG, USAGE, ArgParser, CommandChoices, UnknownArgumentError

SERVICE = "rekognition"

GLOBAL_OPTIONS: list[tuple[str, dict[str, Any], str]] = [
    ("debug", {"action": "store_true"}, "Turn on debug logging."),
    ("endpoint-url", {}, "Override command's default URL with the given URL."),
    (
        "no-verify-ssl",
        {"action": "store_false", "dest": "verify_ssl"},
        "By default, SSL certificates are verified. This option overrides the default behavior "
        "of verifying SSL certificates.",
    ),
    (
        "no-paginate",
        {"action": "store_false", "dest": "paginate"},
        "Disable automatic pagination. If automatic pagination is disabled, only one call is made, "
        "for the first page of results.",
    ),
    ("output", {"choices": ["json", "text", "table"]}, "The formatting style for command output."),
    ("query", {}, "A JMESPath query to use in filtering the response data."),
    ("profile", {}, "Use a specific profile from your credential file."),
    ("region", {}, "The region to use. Overrides config/env settings."),
    ("version", {}, "Display the version of this tool."),
    ("color", {"choices": ["on", "off", "auto"], "default": "auto"}, "Turn on/off color output."),
    (
        "no-sign-request",
        {"action": "store_false", "dest": "sign_request"},
        "Do not sign requests. Credentials will not be loaded if this argument is provided.",
    ),
    (
        "ca-bundle",
        {"dest": "ca_bundle"},
        "The CA certificate bundle to use when verifying SSL certificates. Overrides config/env settings.",
    ),
    (
        "cli-read-timeout",
        {"dest": "read_timeout"},
        "The maximum socket read time in seconds. If the value is set to 0, the socket read will be "
        "blocking and not timeout. The default value is 60 seconds.",
    ),
    (
        "cli-connect-timeout",
        {"dest": "connect_timeout"},
        "The maximum socket connect time in seconds. If the value is set to 0, the socket connect will "
        "be blocking and not timeout. The default value is 60 seconds.",
    ),
    ("v2-debug", {"action": "store_true", "dest": "v2_debug"}, "Accepted for compatibility; does nothing."),
]

TOP_COMMANDS = [SERVICE, "models", "datasets", "accounts", "server", "help"]
# Global options that take a value (the command is the first word that is neither these nor their values).
_VALUED = frozenset("--" + name for name, kwargs, _ in GLOBAL_OPTIONS if "action" not in kwargs and name != "version")


def version_string() -> str:
    import platform

    from openrek import __version__

    try:
        from importlib.metadata import version

        boto = version("botocore")
    except Exception:
        boto = "unknown"
    py = ".".join(str(p) for p in sys.version_info[:3])
    return f"{PROG}/{__version__} Python/{py} {platform.system()}/{platform.release()} botocore/{boto}"


class _Version(argparse.Action):
    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS)

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option_string: Any = None) -> None:
        sys.stdout.write(version_string() + "\n")
        sys.stdout.flush()
        parser.exit()


def main_parser() -> ArgParser:
    parser = ArgParser()
    for name, kwargs, _doc in GLOBAL_OPTIONS:
        if name == "version":
            continue
        parser.add_argument("--" + name, **kwargs)
    parser.add_argument("--version", action=_Version)
    parser.add_argument("command", action=CommandChoices, table=TOP_COMMANDS)
    return parser


def _resolve_globals(g: argparse.Namespace) -> None:
    if g.query is not None:
        import jmespath

        try:
            g.query = jmespath.compile(g.query)
        except Exception as e:
            raise ValueError(f"Bad value for --query {g.query}: {e}") from None
    if g.endpoint_url is not None:
        from urllib.parse import urlparse

        if not urlparse(g.endpoint_url).scheme:
            raise ValueError(
                f'Bad value for --endpoint-url "{g.endpoint_url}": scheme is missing.  Must be of the form '
                "http://<hostname>/ or https://<hostname>/"
            )
    if g.verify_ssl:
        g.verify_ssl = g.ca_bundle
        if g.verify_ssl is None:
            import os

            g.verify_ssl = os.environ.get("AWS_CA_BUNDLE") or None
    else:
        g.verify_ssl = False
    for attr in ("read_timeout", "connect_timeout"):
        value = getattr(g, attr)
        value = int(60 if value is None else value)
        setattr(g, attr, None if value == 0 else value)


def _write_error(message: str) -> None:
    sys.stderr.write("\n")
    sys.stderr.write(message)
    sys.stderr.write("\n")


def main(argv: list[str] | None = None) -> int:
    """Run one command line; returns the exit status."""
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "server":
        return _server(argv[1:])
    if argv in (["--help"], ["-h"]):
        argv = ["help"]
    parser = main_parser()
    tail: list[str] = []
    index = _command_index(argv)
    if index is not None and argv[index] == "models":
        # After `models`, --output is the command's own (the file to write), not the global output format.
        argv, tail = argv[: index + 1], argv[index + 1 :]
    parsed, remaining = parser.parse_known_args(argv)
    try:
        models_args: argparse.Namespace | None = None
        if parsed.command == "models":
            from openrek.cli import models

            models_args = models.parse(remaining + tail, parsed)
        datasets_args: argparse.Namespace | None = None
        if parsed.command == "datasets":
            from openrek.cli import datasets

            datasets_args = datasets.parse(remaining, parsed)
        accounts_args: argparse.Namespace | None = None
        if parsed.command == "accounts":
            from openrek.cli import accounts

            accounts_args = accounts.parse(remaining, parsed)
        _resolve_globals(parsed)
        if parsed.debug:
            _start_debug_log(argv + tail)
        if parsed.command == "help":
            from openrek.cli import help as help_

            help_.print_top_help()
            return 0
        if parsed.command == "server":
            return _server(remaining)
        if models_args is not None:
            return models.run(models_args, parsed)
        if datasets_args is not None:
            return datasets.run(datasets_args, parsed)
        if accounts_args is not None:
            return accounts.run(accounts_args, parsed)
        from openrek.cli.commands import service_command

        return service_command(remaining, parsed)
    except UnknownArgumentError as e:
        sys.stderr.write(f"usage: {USAGE}\n")
        sys.stderr.write(str(e))
        sys.stderr.write("\n")
        return 255
    except KeyboardInterrupt:
        sys.stdout.write("\n")
        return 130
    except Exception as e:
        import logging

        logging.getLogger("openrek").debug("Exception caught in main()", exc_info=True)
        _write_error(str(e))
        return 255


def _command_index(argv: list[str]) -> int | None:
    """Where the command word is in `argv` (global options may come first), or None."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("-"):
            return i
        i += 2 if token in _VALUED else 1
    return None


def _start_debug_log(argv: list[str]) -> None:
    import logging

    from openrek.cli.client import LOG_FORMAT

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    for name in ("openrek", "botocore", "urllib3"):
        log = logging.getLogger(name)
        log.setLevel(logging.DEBUG)
        log.addHandler(handler)
    log = logging.getLogger("openrek.cli")
    log.debug("CLI version: %s", version_string())
    log.debug("Arguments entered to CLI: %s", argv)


def _server(argv: list[str]) -> int:
    try:
        from openrek.server import main as server_main  # type: ignore[attr-defined]
    except ImportError as e:
        _write_error(f"openrek server is not available: {e}")
        return 255
    return int(server_main(argv) or 0)


def run() -> None:
    """Console-script wrapper: ``sys.exit(main())``."""
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
