"""The argument table of one operation, built from its input shape, and the argparse parser for it.

Order and behaviour follow AWS CLI v1: model members first (``--x``/``--no-x`` for booleans, lists
take several values), then Rekognition's ``--image-bytes`` style options, ``--cli-input-json``,
the unified paging options and ``--generate-cli-skeleton``.
"""

from __future__ import annotations

import argparse
from typing import Any

from openrek.cli import unpack
from openrek.cli.model import Operation, ServiceModel, Shape
from openrek.cli.naming import camel, kebab

PROG = "openrek"
HELP_BLURB = (
    "To see help text, you can run:\n"
    "\n"
    f"  {PROG} help\n"
    f"  {PROG} <command> help\n"
    f"  {PROG} <command> <subcommand> help\n"
)
USAGE = f"{PROG} [options] <command> <subcommand> [<subcommand> ...] [parameters]\n{HELP_BLURB}"

CLI_INPUT_JSON_HELP = (
    "<p>Performs service operation based on the JSON string provided. The JSON string follows the "
    "format provided by <code>--generate-cli-skeleton</code>. If other arguments are provided on the "
    "command line, the CLI values will override the JSON-provided values. It is not possible to pass "
    "arbitrary binary values using a JSON-provided value as the string will be taken literally.</p>"
)
SKELETON_HELP = (
    "<p>Prints a JSON skeleton to standard output without sending an API request. If provided with no "
    "value or the value <code>input</code>, prints a sample input JSON that can be used as an argument "
    "for <code>--cli-input-json</code>. If provided with the value <code>output</code>, it validates the "
    "command inputs and returns a sample output JSON for that command.</p>"
)
STARTING_TOKEN_HELP = (
    "<p>A token to specify where to start paginating. This is the <code>NextToken</code> from a "
    "previously truncated response.</p>"
)
PAGE_SIZE_HELP = (
    "<p>The size of each page to get in the service call. This does not affect the number of items "
    "returned in the command's output. Setting a smaller page size results in more calls to the "
    "service, retrieving fewer items in each call.</p>"
)
MAX_ITEMS_HELP = (
    "<p>The total number of items to return in the command's output. If the total number of items "
    "available is more than the value specified, a <code>NextToken</code> is provided in the command's "
    "output. To resume pagination, provide the <code>NextToken</code> value in the "
    "<code>starting-token</code> argument of a subsequent command.</p>"
)
IMAGE_BYTES_HELP = (
    "<p>The content of the image to be uploaded. To specify the content of a local file use the "
    "fileb:// prefix. Example: fileb://image.png</p>"
)

# Rekognition's hoisted blob options (compare-faces first, then every operation with --image).
BLOB_HOISTS = [
    ("compare-faces", "source-image", "source-image-bytes"),
    ("compare-faces", "target-image", "target-image-bytes"),
    ("*", "image", "image-bytes"),
]
# Options renamed because they clash with global ones.
RENAMES = {("create-stream-processor", "output"): "stream-processor-output"}


class ArgParser(argparse.ArgumentParser):
    """argparse with AWS CLI's wording for invalid choices and no automatic ``-h``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("prog", PROG)
        kwargs.setdefault("usage", USAGE)
        kwargs.setdefault("add_help", False)
        kwargs.setdefault("conflict_handler", "resolve")
        kwargs.setdefault("formatter_class", argparse.RawTextHelpFormatter)
        super().__init__(**kwargs)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is None or value in choices:
            return
        choices = list(choices)
        lines = ["Invalid choice, valid choices are:\n"]
        for i in range(0, len(choices), 2):
            lines.append(" | ".join(f"{c:<40}" for c in choices[i : i + 2]))
        from difflib import get_close_matches

        close = get_close_matches(value, choices, cutoff=0.8)
        if close:
            lines.append(f"\n\nInvalid choice: {value!r}, maybe you meant:\n")
            lines.extend(f"  * {w}" for w in close)
        raise argparse.ArgumentError(action, "\n".join(lines))


class CommandChoices(argparse.Action):
    """A positional whose choices are the keys of a command table."""

    def __init__(self, option_strings: list[str], dest: str, table: list[str], **kwargs: Any) -> None:
        super().__init__(option_strings, dest, choices=table, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option_string: Any = None) -> None:
        setattr(namespace, self.dest, values)


class UnknownArgumentError(Exception):
    pass


class Arg:
    """One option of an operation."""

    undocumented = False
    positional = False

    def __init__(self, name: str, documentation: str = "", required: bool = False) -> None:
        self.name = name
        self.documentation = documentation
        self.required = required

    @property
    def cli_name(self) -> str:
        return "--" + self.name

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def py_name(self) -> str:
        return self.name.replace("-", "_")

    shape: Shape | None = None
    type_label = "string"
    nargs: str | None = None

    def add_to_parser(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(self.cli_name, dest=self.dest)

    def add_to_params(self, params: dict[str, Any], value: Any, ctx: unpack.Context) -> None:
        """Custom options add nothing by default."""


class ModelArg(Arg):
    """An option bound to a member of the input shape."""

    def __init__(self, name: str, shape: Shape, serialized_name: str, required: bool) -> None:
        super().__init__(name, shape.documentation, required)
        self.shape = shape
        self.serialized_name = serialized_name

    @property
    def type_label(self) -> str:  # type: ignore[override]
        return self.shape.type_name if self.shape else "string"

    def _argparse_type(self) -> Any:
        t = self.shape.type_name if self.shape else "string"
        if t in ("float", "double"):
            return float
        if t == "long":
            return int
        return None

    def add_to_parser(self, parser: argparse.ArgumentParser) -> None:
        kwargs: dict[str, Any] = {"dest": self.py_name, "required": self.required}
        t = self._argparse_type()
        if t is not None:
            kwargs["type"] = t
        parser.add_argument(self.cli_name, **kwargs)

    def add_to_params(self, params: dict[str, Any], value: Any, ctx: unpack.Context) -> None:
        if value is None:
            return
        assert self.shape is not None
        params[self.serialized_name] = unpack.unpack_model_value(self, value, ctx)


class ListArg(ModelArg):
    nargs = "*"

    def add_to_parser(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(self.cli_name, dest=self.py_name, nargs="*", required=self.required)


class BoolArg(ModelArg):
    """``--flag`` (True) and, as a separate entry, ``--no-flag`` (False) sharing one destination."""

    def __init__(self, name: str, shape: Shape, serialized_name: str, negative_of: str | None = None) -> None:
        super().__init__(name, shape, serialized_name, False)
        self.negative_of = negative_of

    @property
    def dest(self) -> str:
        return (self.negative_of or self.name).replace("-", "_")

    def add_to_parser(self, parser: argparse.ArgumentParser) -> None:
        action = "store_false" if self.negative_of else "store_true"
        parser.add_argument(self.cli_name, action=action, default=None, dest=self.dest)

    def add_to_params(self, params: dict[str, Any], value: Any, ctx: unpack.Context) -> None:
        if value is not None:
            params[self.serialized_name] = value


class BlobHoistArg(Arg):
    """``--image-bytes fileb://x``: the ``Bytes`` member of ``--image`` as an option of its own."""

    type_label = "blob"

    def __init__(self, name: str, target: str) -> None:
        super().__init__(name, IMAGE_BYTES_HELP)
        self.target = target

    def add_to_params(self, params: dict[str, Any], value: Any, ctx: unpack.Context) -> None:
        if value is None:
            return
        if params.get(self.target):
            params[self.target].update({"Bytes": value})
        else:
            params[self.target] = {"Bytes": value}


class CliInputJsonArg(Arg):
    def __init__(self) -> None:
        super().__init__("cli-input-json", CLI_INPUT_JSON_HELP)


class SkeletonArg(Arg):
    def __init__(self) -> None:
        super().__init__("generate-cli-skeleton", SKELETON_HELP)

    def add_to_parser(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            self.cli_name, dest=self.dest, nargs="?", const="input", choices=["input", "output"]
        )


class PageArg(Arg):
    """``--starting-token``, ``--page-size``, ``--max-items``: go into ``PaginationConfig``."""

    def __init__(self, name: str, documentation: str, parse_type: str, serialized_name: str) -> None:
        super().__init__(name, documentation)
        self.parse_type = parse_type
        self.serialized_name = serialized_name

    @property
    def type_label(self) -> str:  # type: ignore[override]
        return self.parse_type

    def add_to_parser(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(self.cli_name, dest=self.py_name, type=str if self.parse_type == "string" else int)

    def add_to_params(self, params: dict[str, Any], value: Any, ctx: unpack.Context) -> None:
        if value is None:
            return
        if self.serialized_name == "MaxItems" and int(value) <= 0:
            ctx.stderr.write("warning: Non-positive values for --max-items may result in undefined behavior.\n")
        params.setdefault("PaginationConfig", {})[self.serialized_name] = value


class ArgTable:
    """The options of one operation, in AWS CLI's order, plus what paging needs to know."""

    def __init__(self, model: ServiceModel, operation: Operation, cli_op_name: str) -> None:
        self.model = model
        self.operation = operation
        self.cli_op_name = cli_op_name
        self.args: dict[str, Arg] = {}
        self.paginator: dict[str, Any] | None = model.paginators.get(operation.name)
        self.paging_input_cli_names: list[str] = []
        self.shadowed: dict[str, Arg] = {}
        self._build()

    def _build(self) -> None:
        shape = self.operation.input_shape
        if shape is not None:
            required = shape.required_members
            for member, mshape in shape.members.items():
                cli = kebab(member)
                is_required = member in required and not mshape.metadata.get("idempotencyToken")
                if mshape.type_name == "boolean":
                    self.args[cli] = BoolArg(cli, mshape, member)
                    self.args["no-" + cli] = BoolArg("no-" + cli, mshape, member, negative_of=cli)
                elif mshape.type_name == "list":
                    self.args[cli] = ListArg(cli, mshape, member, is_required)
                else:
                    self.args[cli] = ModelArg(cli, mshape, member, is_required)
        for (op, old), new in RENAMES.items():
            if op == self.cli_op_name and old in self.args:
                arg = self.args.pop(old)
                arg.name = new
                self.args[new] = arg
        for op, source, new in BLOB_HOISTS:
            if op not in ("*", self.cli_op_name) or source not in self.args:
                continue
            src = self.args[source]
            if src.shape is None or src.shape.type_name != "structure":
                continue
            member = src.shape.members.get("Bytes")
            if member is None or member.type_name != "blob":
                continue
            self.args[new] = BlobHoistArg(new, camel(source))
            src.required = False
            src.documentation += f"<p>To specify a local file use <code>--{new}</code> instead.</p>"
        self.args["cli-input-json"] = CliInputJsonArg()
        if self.paginator is not None:
            self._add_paging()
        self.args["generate-cli-skeleton"] = SkeletonArg()

    def _add_paging(self) -> None:
        assert self.paginator is not None
        tokens = self.paginator["input_token"]
        tokens = tokens if isinstance(tokens, list) else [tokens]
        names = [kebab(t) for t in tokens]
        limit_key = self.paginator.get("limit_key")
        if limit_key:
            names.append(kebab(limit_key))
        for n in names:
            if n in self.args:
                self.args[n].undocumented = True
        self.paging_input_cli_names = names
        self._add_page_arg(PageArg("starting-token", STARTING_TOKEN_HELP, "string", "StartingToken"))
        type_name = "integer"
        shape = self.operation.input_shape
        if limit_key and shape is not None:
            type_name = shape.members[limit_key].type_name
            self._add_page_arg(PageArg("page-size", PAGE_SIZE_HELP, type_name, "PageSize"))
        self._add_page_arg(PageArg("max-items", MAX_ITEMS_HELP, type_name, "MaxItems"))

    def _add_page_arg(self, arg: PageArg) -> None:
        if arg.name in self.args:
            self.shadowed[arg.name] = self.args[arg.name]
        self.args[arg.name] = arg

    def override_required(self, argv: list[str]) -> None:
        """``--cli-input-json`` or ``--generate-cli-skeleton [input]`` make every option optional."""
        if "--cli-input-json" in argv:
            self._all_optional()
        if "--generate-cli-skeleton" in argv:
            at = argv.index("--generate-cli-skeleton")
            if at + 1 < len(argv) and argv[at + 1] == "output":
                return
            self._all_optional()

    def _all_optional(self) -> None:
        for arg in self.args.values():
            arg.required = False

    def parser(self) -> ArgParser:
        parser = ArgParser()
        for arg in self.args.values():
            arg.add_to_parser(parser)
        parser.add_argument("help", nargs="?")
        return parser

    def parse(self, argv: list[str]) -> argparse.Namespace:
        # ``--help`` is an openrek addition (aws v1 only knows the ``help`` word).
        if argv == ["help"] or "--help" in argv:
            ns = argparse.Namespace()
            ns.help = "help"
            return ns
        parsed, remaining = self.parser().parse_known_args(argv)
        if parsed.help and parsed.help != "help":
            remaining.append(parsed.help)
        if remaining:
            raise UnknownArgumentError(f"Unknown options: {', '.join(remaining)}")
        return parsed


def parse_subcommand(args: list[str], table: list[str], options: ArgParser) -> tuple[str, argparse.Namespace | None]:
    """(subcommand, its parsed options) for openrek's own commands (``datasets …``, ``accounts …``);
    ("help", None) when help is asked for. The subcommand must be one of `table`; unknown options are errors."""
    if not args or args[:1] in (["--help"], ["help"]) or args[1:2] in (["help"], ["--help"]):
        return "help", None
    chooser = ArgParser()
    chooser.add_argument("subcommand", action=CommandChoices, table=table)
    chooser.parse_args(args[:1])
    parsed, unknown = options.parse_known_args(args[1:])
    if unknown:
        raise UnknownArgumentError(f"Unknown options: {', '.join(unknown)}")
    return args[0], parsed
