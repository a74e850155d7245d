"""Turning the strings typed on the command line into request parameters, the AWS CLI v1 way.

Two steps per option: values that name a file or URL are replaced by its contents; then complex
shapes are read as shorthand (unless the value looks like JSON) or JSON, scalars are coerced.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, TextIO

from openrek.cli import paramfile, shorthand
from openrek.cli.model import COMPLEX_TYPES, SCALAR_TYPES, Shape

if TYPE_CHECKING:
    from openrek.cli.arguments import Arg


class ParamError(Exception):
    """``Error parsing parameter '--x': ...``"""

    def __init__(self, cli_name: str, message: str) -> None:
        super().__init__(f"Error parsing parameter '{cli_name}': {message}")
        self.cli_name = cli_name
        self.message = message


class Context:
    """What unpacking needs to know besides the value."""

    def __init__(self, stderr: TextIO, profile: str | None = None) -> None:
        self.stderr = stderr
        self.profile = profile
        self._follow: bool | None = None

    @property
    def follow_urls(self) -> bool:
        """``cli_follow_urlparam`` of the profile (default true); read only when a URL value shows up."""
        if self._follow is None:
            self._follow = True
            try:
                import botocore.session

                session = botocore.session.Session(profile=self.profile)
                self._follow = session.get_scoped_config().get("cli_follow_urlparam", "true") == "true"
            except Exception:
                self._follow = True
        return self._follow


def load_cli_arg(arg: Arg, value: Any, ctx: Context) -> Any:
    """Replace ``file://``, ``fileb://``, ``http(s)://`` values by what they point at."""
    check = value[0] if isinstance(value, list) and len(value) == 1 else value
    is_url = isinstance(check, str) and check.startswith(("http://", "https://"))
    try:
        loaded = paramfile.load(check, follow_urls=is_url and ctx.follow_urls)
    except paramfile.ResourceLoadingError as e:
        raise ParamError(arg.cli_name, str(e)) from None
    return value if loaded is None else loaded


def _complex_for_shorthand(shape: Shape) -> bool:
    if shape.type_name not in COMPLEX_TYPES:
        return False
    if shape.type_name == "list" and shape.member.type_name not in COMPLEX_TYPES:
        return False
    return True


def _shorthand(arg: Arg, value: Any) -> Any:
    shape = arg.shape
    assert shape is not None
    first = value[0] if isinstance(value, list) and value else value
    if isinstance(first, str) and first.strip().startswith(("[", "{")):
        return None
    if not _complex_for_shorthand(shape):
        return None
    try:
        if (
            shape.type_name == "structure"
            and len(shape.members) == 1
            and "Value" in shape.members
            and shape.members["Value"].type_name == "string"
            and "=" not in value
        ):
            return {"Value": value}
        if isinstance(value, list):
            parsed: Any = [shorthand.parse(v) for v in value]
        else:
            parsed = shorthand.parse(value)
        shorthand.coerce(parsed, shape)
    except shorthand.ShorthandError as e:
        raise ParamError(arg.cli_name, str(e)) from None
    return parsed


def unpack_model_value(arg: Arg, value: Any, ctx: Context) -> Any:
    parsed = _shorthand(arg, value)
    if parsed is not None:
        return parsed
    assert arg.shape is not None
    return unpack_value(arg.shape, value, arg.cli_name)


def _json(value: str, cli_name: str) -> Any:
    try:
        return json.loads(value, object_pairs_hook=OrderedDict)
    except ValueError as e:
        raise ParamError(cli_name, f"Invalid JSON: {e}\nJSON received: {value}") from None


def unpack_value(shape: Shape, value: Any, cli_name: str) -> Any:
    t = shape.type_name
    if shape.is_document_type:
        return _json(value, cli_name)
    if t in SCALAR_TYPES:
        return unpack_scalar(shape, value, cli_name)
    if t in ("structure", "map"):
        if value.lstrip()[0] == "{":
            return _json(value, cli_name)
        raise ParamError(cli_name, f"Invalid JSON:\n{value}")
    if t == "list":
        if isinstance(value, str):
            if value.lstrip()[0] == "[":
                return _json(value, cli_name)
        elif isinstance(value, list) and len(value) == 1:
            single = value[0].strip()
            if single and single[0] == "[":
                return _json(value[0], cli_name)
        try:
            return [unpack_value(shape.member, v, cli_name) for v in value]
        except (ValueError, TypeError):
            raise ParamError(cli_name, value[0]) from None
    return str(value)


def unpack_scalar(shape: Shape, value: Any, cli_name: str = "") -> Any:
    t = shape.type_name
    if t in ("integer", "long"):
        return int(value)
    if t in ("float", "double"):
        return float(value)
    if t == "blob" and shape.streaming:
        path = os.path.expanduser(os.path.expandvars(value))
        if not os.path.isfile(path):
            raise ParamError(cli_name, "Blob values must be a path to a file.")
        return open(path, "rb")  # noqa: SIM115 - handed to the request body
    if t == "boolean":
        if isinstance(value, str) and value.lower() == "false":
            return False
        return bool(value)
    return value
