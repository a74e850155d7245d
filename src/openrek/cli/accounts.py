"""``openrek accounts create --name NAME``: the server's root makes a further account (not an AWS command).

A signed ``POST /_openrek/accounts`` to a server that verifies signatures (not ``--auth off``); prints
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

       Creates an account with its own id and root access key, and prints AccountId, Name, AccessKeyId and
       SecretAccessKey as JSON. Only the root of the server's first account may run it (the local server's
       root keys are in <data-dir>/credentials, which this CLI reads by itself).
"""


def parse(args: list[str], g: argparse.Namespace) -> argparse.Namespace:
    options = ArgParser()
    options.add_argument("--name", required=True, dest="name")
    sub, parsed = parse_subcommand(args, SUBCOMMANDS, options)
    if parsed is None:
        return argparse.Namespace(subcommand="help")
    return argparse.Namespace(subcommand=sub, name=parsed.name)


def run(args: argparse.Namespace, g: argparse.Namespace) -> int:
    if args.subcommand == "help":
        sys.stdout.write(HELP)
        return 0
    from openrek.cli.openrek_http import OpenrekHttp

    response = OpenrekHttp(g, "accounts").send("POST", PATH, "CreateAccount",
                                               body=json.dumps({"Name": args.name}).encode())
    sys.stdout.write(json.dumps(json.loads(response.content), indent=4) + "\n")
    return 0
