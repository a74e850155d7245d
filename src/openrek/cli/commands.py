"""``openrek rekognition <operation>`` and ``openrek rekognition wait <waiter>``: parse, build, send, print.

The steps and their order are AWS CLI v1's: parse the options, check the paging options, unpack
each value, merge ``--cli-input-json`` (command line wins), print a skeleton or send the request
through botocore (validation, signing, retries, pagination), then format the response.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from openrek.cli import paramfile, unpack
from openrek.cli.arguments import ArgParser, ArgTable, CommandChoices
from openrek.cli.model import Operation, ServiceModel, load_service_model
from openrek.cli.naming import kebab
from openrek.cli.unpack import ParamError

PAGING_OPTIONS = ("starting_token", "page_size", "max_items")


class PaginationError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(f"Error during pagination: {message}")


def _snake(name: str) -> str:
    return kebab(name, "_")


def service_command(args: list[str], g: argparse.Namespace) -> int:
    model = load_service_model()
    ops = {kebab(n): n for n in model.operation_names}
    table = list(ops) + (["wait"] if model.waiters else []) + ["help"]
    if args[:1] == ["--help"]:
        args = ["help"] + args[1:]
    parser = ArgParser()
    parser.add_argument("operation", action=CommandChoices, table=table)
    parsed, remaining = parser.parse_known_args(args)
    if parsed.operation == "help":
        from openrek.cli import help as help_

        help_.print_service_help(model)
        return 0
    if parsed.operation == "wait":
        return wait_command(remaining, g, model)
    return run_operation(model, model.operation(ops[parsed.operation]), parsed.operation, remaining, g)


def wait_command(args: list[str], g: argparse.Namespace, model: ServiceModel) -> int:
    names = {kebab(n): n for n in sorted(model.waiters)}
    if args[:1] in (["help"], ["--help"]):
        from openrek.cli import help as help_

        help_.print_wait_help(model)
        return 0
    parser = ArgParser()
    parser.add_argument("subcommand", action=CommandChoices, table=list(names), nargs="?")
    parsed, remaining = parser.parse_known_args(args)
    if parsed.subcommand is None:
        raise ValueError(
            "usage: openrek [options] <command> <subcommand> [parameters]\nopenrek: error: too few arguments"
        )
    waiter_name = names[parsed.subcommand]
    op = model.operation(model.waiters[waiter_name]["operation"])
    return run_operation(model, op, parsed.subcommand, remaining, g, waiter=waiter_name)


def _check_paging(table: ArgTable, parsed: argparse.Namespace, g: argparse.Namespace) -> None:
    if table.paginator is None:
        return
    for name in table.paging_input_cli_names:
        py = name.replace("-", "_")
        if getattr(parsed, py, None) is not None and py not in ("start_token", "max_items"):
            g.paginate = False
    if not g.paginate:
        shadowed = [s.replace("-", "_") for s in table.shadowed]
        used = [p for p in PAGING_OPTIONS if p not in shadowed and getattr(parsed, p, None)]
        if used:
            names = ", ".join("--" + p.replace("_", "-") for p in used)
            raise PaginationError(f"Cannot specify --no-paginate along with pagination arguments: {names}")
        for key, arg in table.shadowed.items():
            table.args[key] = arg


def build_params(table: ArgTable, parsed: argparse.Namespace, profile: str | None = None) -> dict[str, Any]:
    ctx = unpack.Context(stderr=sys.stderr, profile=profile)
    params: dict[str, Any] = {}
    values = vars(parsed)
    for arg in list(table.args.values()):
        if arg.py_name in values:
            value = unpack.load_cli_arg(arg, values[arg.py_name], ctx)
            arg.add_to_params(params, value, ctx)
    raw = getattr(parsed, "cli_input_json", None)
    if raw is not None:
        loaded = paramfile.load_local(raw)
        text = raw if loaded is None else loaded
        try:
            data = json.loads(text)
        except ValueError as e:
            raise ParamError("cli-input-json", f"Invalid JSON: {e}\nJSON received: {text}") from None
        for key in data.keys():
            if key not in params:
                params[key] = data[key]
    return params


def run_operation(
    model: ServiceModel,
    op: Operation,
    cli_name: str,
    args: list[str],
    g: argparse.Namespace,
    waiter: str | None = None,
) -> int:
    table = ArgTable(model, op, cli_name)
    table.override_required(args)
    parsed = table.parse(args)
    if parsed.help == "help":
        from openrek.cli import help as help_

        help_.print_operation_help(model, op, table, cli_name, waiter=waiter)
        return 0
    _check_paging(table, parsed, g)
    params = build_params(table, parsed, g.profile)
    skeleton = getattr(parsed, "generate_cli_skeleton", None)
    if skeleton == "input" or (skeleton and skeleton != "output"):
        from openrek.cli.skeleton import render

        sys.stdout.write(render(op.input_shape))
        return 0
    from openrek.cli.client import create_client, make_session

    session = make_session(g)
    client = create_client(session, g)
    output = g.output or session.get_config_variable("output") or "json"
    if skeleton == "output":
        response = _stubbed_call(client, op, params)
    elif waiter is not None:
        from openrek.cli.waiters import wait

        wait(client, model, waiter, params)
        return 0
    else:
        py = _snake(op.name)
        if g.paginate and client.can_paginate(py):
            response = client.get_paginator(py).paginate(**params)
        else:
            response = getattr(client, py)(**params)
    from openrek.cli.formatters import format_response

    format_response(output, op.name, response, g.query, g.color, sys.stdout)
    return 0


def _stubbed_call(client: Any, op: Operation, params: dict[str, Any]) -> Any:
    """``--generate-cli-skeleton output``: validate the input, answer with a sample response.

    The sample is AWS CLI v1's (member names as strings, 0, true, ...). Where that sample breaks the
    output shape's own limits (v1 then fails, e.g. for create-project-version, whose ARN must have at
    least 20 characters), openrek stretches or trims values to the limits and prints that instead.
    """
    from botocore.exceptions import ParamValidationError
    from botocore.stub import Stubber
    from botocore.utils import ArgumentGenerator

    py = _snake(op.name)
    shape = client.meta.service_model.operation_model(op.name).output_shape
    fake = ArgumentGenerator(use_member_names=True).generate_skeleton(shape) if shape else {}
    with Stubber(client) as stubber:
        try:
            stubber.add_response(py, fake)
        except ParamValidationError:
            stubber.add_response(py, _fit_to_limits(fake, shape))
        return getattr(client, py)(**params)


def _fit_to_limits(value: Any, shape: Any) -> Any:
    """The sample value, with strings, numbers and lists brought within the shape's min/max."""
    if shape is None:
        return value
    meta = shape.metadata
    t = shape.type_name
    if t == "structure" and isinstance(value, dict):
        return {k: _fit_to_limits(v, shape.members[k]) for k, v in value.items()}
    if t == "list" and isinstance(value, list):
        items = [_fit_to_limits(v, shape.member) for v in value]
        while items and len(items) < meta.get("min", 0):
            items.append(items[0])
        return items
    if t == "map" and isinstance(value, dict):
        return {k: _fit_to_limits(v, shape.value) for k, v in value.items()}
    if t == "string" and isinstance(value, str):
        if shape.enum:
            return shape.enum[0]
        low, high = meta.get("min", 0), meta.get("max")
        while value and len(value) < low:
            value += "-" + value
        return value[:high] if high is not None else value
    if t in ("integer", "long", "float", "double") and isinstance(value, (int, float)):
        low, high = meta.get("min"), meta.get("max")
        if low is not None and value < low:
            value = type(value)(low)
        if high is not None and value > high:
            value = type(value)(high)
        return value
    return value
