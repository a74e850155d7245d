"""``openrek accounts create --name NAME``: the server's root makes a further account (not an AWS command).

A signed ``POST /_openrek/accounts`` to a server that verifies signatures (not ``--auth off``), or, with
``--data-dir DIR``, written straight into that server's database (whoever can read the data dir is its
root already; a running server sees the new keys at once); prints
``{"AccountId", "Name", "AccessKeyId", "SecretAccessKey"}`` as JSON. The new account is a namespace of
its own: its projects, versions and datasets are invisible to every other account.
"""

from __future__ import annotations

import argparse
import json
import sys

from openrek.cli.arguments import PROG, ArgParser, parse_subcommand

SUBCOMMANDS = ["create", "help"]
PATH = "/_openrek/accounts"

HELP = f"""NAME
       accounts -

DESCRIPTION
       Commands of openrek itself, beside the AWS ones: accounts of an openrek server (not one started with --auth off).

AVAILABLE COMMANDS
       o create

SYNOPSIS
          {PROG} accounts create
          --name <value>
          [--data-dir <value>]

       Creates an account with its own id and root access key, and prints AccountId, Name, AccessKeyId and
       SecretAccessKey as JSON. Only the root of the server's first account may run it (the local server's
       root keys are in <data-dir>/credentials, which this CLI reads by itself). With --data-dir, the
       account is written into that data directory's database instead, with or without a server running.
"""


def parse(args: list[str], g: argparse.Namespace) -> argparse.Namespace:
    options = ArgParser()
    options.add_argument("--name", required=True, dest="name")
    options.add_argument("--data-dir", dest="data_dir", default=None)
    sub, parsed = parse_subcommand(args, SUBCOMMANDS, options)
    if parsed is None:
        return argparse.Namespace(subcommand="help")
    return argparse.Namespace(subcommand=sub, name=parsed.name, data_dir=parsed.data_dir)


def _create_in(data_dir: str, name: str) -> dict[str, str] | None:
    from pathlib import Path

    from openrek.config import Settings
    from openrek.security.identities import Identities
    from openrek.store.database import migrate, open_engine
    from openrek.store.metadata import DuplicateError, MetadataStore

    if not (Path(data_dir) / "openrek.db").exists() and not Settings().database_url:
        sys.stderr.write(f"\n{data_dir} is no openrek data directory (it has no openrek.db): start the server "
                         "with --data-dir once, or name the right directory.\n")
        return None
    engine = open_engine(Settings(data_dir=Path(data_dir)).sqlalchemy_url)
    migrate(engine)
    try:
        account_id, key, secret = Identities(MetadataStore(engine)).create_account(name)
    except DuplicateError:
        sys.stderr.write("\nAn error occurred (ResourceAlreadyExistsException) when calling the CreateAccount "
                         f"operation: An account named {name} already exists.\n")
        return None
    return {"AccountId": account_id, "Name": name, "AccessKeyId": key, "SecretAccessKey": secret}


def run(args: argparse.Namespace, g: argparse.Namespace) -> int:
    if args.subcommand == "help":
        sys.stdout.write(HELP)
        return 0
    if getattr(args, "data_dir", None):
        created = _create_in(args.data_dir, args.name)
        if created is None:
            return 255
        sys.stdout.write(json.dumps(created, indent=4) + "\n")
        return 0
    from openrek.cli.openrek_http import OpenrekHttp

    response = OpenrekHttp(g, "accounts").send("POST", PATH, "CreateAccount",
                                               body=json.dumps({"Name": args.name}).encode())
    sys.stdout.write(json.dumps(json.loads(response.content), indent=4) + "\n")
    return 0
