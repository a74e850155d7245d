"""Help pages rendered as plain text from the service model's documentation.

Same sections and order as AWS CLI v1's pages (NAME, DESCRIPTION, SYNOPSIS with the options in
the order the command accepts them, OPTIONS with shorthand and JSON syntax, GLOBAL OPTIONS,
OUTPUT), written to stdout without a pager or roff.
"""

from __future__ import annotations

import json
import sys
import textwrap
from html.parser import HTMLParser
from typing import Any

from openrek.cli.arguments import ArgTable, BoolArg, ListArg, ModelArg
from openrek.cli.model import COMPLEX_TYPES, Operation, ServiceModel, Shape
from openrek.cli.naming import kebab

WIDTH = 79


class _Text(HTMLParser):
    """HTML from the model to paragraphs of plain text (lists become ``*`` items)."""

    BLOCK = {"p", "ul", "ol", "li", "note", "important", "dl", "dt", "dd", "br", "div", "h1", "h2", "h3"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self.buf: list[str] = []
        self.bullet = False

    def _flush(self) -> None:
        text = " ".join("".join(self.buf).split())
        if text:
            self.paragraphs.append(("* " if self.bullet else "") + text)
        self.buf = []
        self.bullet = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.BLOCK:
            self._flush()
            if tag == "li":
                self.bullet = True
            elif tag in ("note", "important"):
                self.paragraphs.append("Note:")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        self.buf.append(data)


def html_to_paragraphs(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html or "")
    parser.close()
    parser._flush()
    return parser.paragraphs


def _wrap(paragraphs: list[str], indent: int) -> str:
    pad = " " * indent
    out = []
    for p in paragraphs:
        sub = pad + "  " if p.startswith("* ") else pad
        out.append(textwrap.fill(p, WIDTH, initial_indent=pad, subsequent_indent=sub))
    return "\n\n".join(out)


def _type_skeleton(shape: Shape, stack: list[str]) -> Any:
    if shape.name in stack:
        return "{...recursive...}"
    stack.append(shape.name)
    try:
        t = shape.type_name
        if t == "structure":
            return {m: _type_skeleton(s, stack) for m, s in shape.members.items()}
        if t == "list":
            return [_type_skeleton(shape.member, stack), "..."]
        if t == "map":
            return {"string": _type_skeleton(shape.value, stack), "...": "..."}
        if shape.enum:
            return "|".join(shape.enum)
        return {"integer": 0, "long": 0, "float": 0.0, "double": 0.0, "boolean": True}.get(t, t)
    finally:
        stack.pop()


class _TooDeep(Exception):
    pass


def shorthand_example(shape: Shape) -> str | None:
    """The ``Shorthand Syntax`` line of an option, or ``None`` where shorthand does not apply."""
    if shape.type_name not in COMPLEX_TYPES:
        return None
    if shape.type_name == "list" and shape.member.type_name not in COMPLEX_TYPES:
        return None
    if shape.type_name == "structure" and list(shape.members) == ["Value"]:
        return None
    try:
        if shape.type_name == "list":
            return _sh(shape.member, []) + " ..."
        return _sh(shape, [])
    except _TooDeep:
        return ""


def _sh(shape: Shape, stack: list[str]) -> str:
    if len(stack) > 3:
        raise _TooDeep()
    t = shape.type_name
    if t == "structure":
        parts = []
        for name, member in shape.members.items():
            if member.name in stack:
                parts.append(f"{name}=( ... recursive ... )")
                continue
            stack.append(member.name)
            try:
                parts.append(f"{name}={_sh(member, stack)}")
            finally:
                stack.pop()
        inner = ",".join(parts)
        return "{" + inner + "}" if stack else inner
    if t == "list":
        stack.append(shape.member.name)
        try:
            element = _sh(shape.member, stack)
        finally:
            stack.pop()
        if shape.member.type_name in COMPLEX_TYPES or len(stack) > 1:
            return f"[{element},{element}]"
        return f"{element},{element}"
    if t == "map":
        stack.append(shape.value.name)
        try:
            value = _sh(shape.value, stack)
        finally:
            stack.pop()
        text = f"KeyName1={value},KeyName2={value}"
        if shape.key.enum and not stack:
            text += "\n\nWhere valid key names are:\n" + "".join(f"  {e}\n" for e in shape.key.enum)
        elif stack:
            text = "{" + text + "}"
        return text
    return t


def _members_doc(shape: Shape, indent: int, stack: list[str], lines: list[str]) -> None:
    pad = " " * indent
    t = shape.type_name
    if t == "structure":
        for name, member in shape.members.items():
            lines.append(f"{pad}{name} -> ({member.type_name})")
            doc = html_to_paragraphs(member.documentation)
            if doc:
                lines.append(_wrap(doc, indent + 4))
            lines.append("")
            if member.type_name in COMPLEX_TYPES and member.name not in stack:
                _members_doc(member, indent + 4, stack + [member.name], lines)
    elif t == "list":
        member = shape.member
        if member.type_name in COMPLEX_TYPES and member.name not in stack:
            lines.append(f"{pad}({member.type_name})")
            doc = html_to_paragraphs(member.documentation)
            if doc:
                lines.append(_wrap(doc, indent + 3))
            lines.append("")
            _members_doc(member, indent + 3, stack + [member.name], lines)
    elif t == "map":
        lines.append(f"{pad}key -> ({shape.key.type_name})")
        lines.append("")
        lines.append(f"{pad}value -> ({shape.value.type_name})")
        lines.append("")
        if shape.value.type_name in COMPLEX_TYPES and shape.value.name not in stack:
            _members_doc(shape.value, indent + 4, stack + [shape.value.name], lines)


def _global_synopsis() -> list[str]:
    from openrek.cli.main import GLOBAL_OPTIONS

    out = []
    for name, kwargs, _doc in GLOBAL_OPTIONS:
        flag = kwargs.get("action") in ("store_true", "store_false")
        out.append(f"[--{name}]" if flag else f"[--{name} <value>]")
    return out


def _global_options() -> list[str]:
    from openrek.cli.main import GLOBAL_OPTIONS

    lines = ["GLOBAL OPTIONS"]
    for name, kwargs, doc in GLOBAL_OPTIONS:
        flag = kwargs.get("action") in ("store_true", "store_false")
        lines.append(f"       --{name} ({'boolean' if flag else 'string'})")
        lines.append(_wrap([doc], 10))
        if kwargs.get("choices"):
            lines.append("")
            lines.extend(f"          * {c}" for c in kwargs["choices"])
        lines.append("")
    return lines


def _synopsis_entry(arg: Any, table: ArgTable) -> str | None:
    if arg.undocumented:
        return None
    if isinstance(arg, BoolArg):
        if arg.negative_of:
            return None
        return f"[--{arg.name} | --no-{arg.name}]"
    value = "<value> [<value>...]" if isinstance(arg, ListArg) else "<value>"
    entry = f"--{arg.name} {value}"
    return entry if arg.required else f"[{entry}]"


def render_operation_help(model: ServiceModel, op: Operation, table: ArgTable, cli_name: str, waiter: str | None) -> str:
    lines = ["NAME", f"       {cli_name} -", "", "DESCRIPTION"]
    if waiter is not None:
        lines.append(_wrap([_waiter_description(model, waiter)], 7))
    else:
        lines.append(_wrap(html_to_paragraphs(op.documentation), 7))
    lines += ["", "SYNOPSIS", f"            {cli_name}"]
    for arg in table.args.values():
        entry = _synopsis_entry(arg, table)
        if entry:
            lines.append(f"          {entry}")
    lines += [f"          {e}" for e in _global_synopsis()]
    lines += ["", "OPTIONS"]
    documented = [a for a in table.args.values() if not a.undocumented and not (isinstance(a, BoolArg) and a.negative_of)]
    if not documented:
        lines += ["       None", ""]
    for arg in documented:
        if isinstance(arg, BoolArg):
            lines.append(f"       --{arg.name} | --no-{arg.name} (boolean)")
        else:
            lines.append(f"       --{arg.name} ({arg.type_label})")
        lines.append(_wrap(html_to_paragraphs(arg.documentation), 10))
        lines.append("")
        shape = arg.shape if isinstance(arg, ModelArg) else None
        if shape is not None:
            if shape.enum or (shape.type_name == "list" and shape.member.enum):
                lines.append("          Possible values:")
                lines.append("")
                lines.extend(f"          * {e}" for e in (shape.enum or shape.member.enum))
                lines.append("")
            if shape.type_name in COMPLEX_TYPES:
                _members_doc(shape, 10, [shape.name], lines)
                example = shorthand_example(shape)
                if example:
                    lines += ["       Shorthand Syntax:", "", textwrap.indent(example, "          "), ""]
                skel = json.dumps(_type_skeleton(shape, []), indent=2)
                lines += ["       JSON Syntax:", "", textwrap.indent(skel, "          "), ""]
            elif shape.type_name == "list":
                lines += ["       Syntax:", "", f'          "{shape.member.type_name}" "{shape.member.type_name}" ...', ""]
    lines += _global_options()
    if waiter is None and op.output_shape is not None:
        lines += ["OUTPUT"]
        _members_doc(op.output_shape, 7, [op.output_shape.name], lines)
    elif waiter is None:
        lines += ["OUTPUT", "       None", ""]
    return "\n".join(lines).rstrip() + "\n"


def _waiter_description(model: ServiceModel, waiter: str) -> str:
    cfg = model.waiters[waiter]
    text = cfg.get("description") or ""
    if not text:
        text = "Wait until "
        for acc in cfg.get("acceptors", []):
            if acc.get("state") == "success":
                templates = {
                    "error": "%s is thrown ",
                    "path": "%s ",
                    "pathAll": "%s for all elements ",
                    "pathAny": "%s for any element ",
                    "status": "%s response is received ",
                }
                tpl = templates[acc["matcher"]]
                if acc["matcher"] in ("path", "pathAll", "pathAny"):
                    tpl = f"JMESPath query {acc['argument']} returns " + tpl
                text += tpl % acc["expected"]
                break
        text += f"when polling with ``{kebab(cfg['operation'])}``."
    return text + (
        f" It will poll every {cfg['delay']} seconds until a successful state has been reached. This will "
        f"exit with a return code of 255 after {cfg['maxAttempts']} failed checks. On a terminal, openrek "
        "shows the current status, the attempt and the elapsed time while it waits."
    )


def print_operation_help(model: ServiceModel, op: Operation, table: ArgTable, cli_name: str, waiter: str | None = None) -> None:
    sys.stdout.write(render_operation_help(model, op, table, cli_name, waiter))


def print_service_help(model: ServiceModel) -> None:
    lines = ["NAME", "       rekognition -", "", "DESCRIPTION"]
    lines.append(_wrap(html_to_paragraphs(model.documentation), 7))
    lines += ["", "AVAILABLE COMMANDS"]
    names = sorted([kebab(n) for n in model.operation_names] + (["wait"] if model.waiters else []))
    lines += [f"       o {n}\n" for n in names]
    sys.stdout.write("\n".join(lines).rstrip() + "\n")


def print_wait_help(model: ServiceModel) -> None:
    lines = ["NAME", "       wait -", "", "DESCRIPTION"]
    lines.append(
        _wrap(["Wait until a particular condition is satisfied. Each subcommand polls an API until the "
               "listed requirement is met."], 7)
    )
    lines += ["", "AVAILABLE COMMANDS"]
    lines += [f"       o {kebab(n)}\n" for n in sorted(model.waiters)]
    sys.stdout.write("\n".join(lines).rstrip() + "\n")


def print_top_help() -> None:
    lines = [
        "NAME",
        "       openrek -",
        "",
        "DESCRIPTION",
        _wrap(
            ["A self-hosted, wire-compatible Amazon Rekognition Custom Labels. Commands and options are "
             "those of the AWS CLI v1; requests go to the local openrek server by default "
             "(OPENREK_ENDPOINT, else http://127.0.0.1:4599)."],
            7,
        ),
        "",
        "SYNOPSIS",
        "          openrek [options] <command> <subcommand> [parameters]",
        "",
        "       Use openrek <command> help for information on a specific command.",
        "",
    ]
    lines += _global_options()
    lines += ["AVAILABLE SERVICES", "       o rekognition", "", "       o models", "", "       o datasets", "",
              "       o accounts", "",
              "       o server", ""]
    sys.stdout.write("\n".join(lines).rstrip() + "\n")
