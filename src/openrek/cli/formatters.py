"""Output formats ``json``, ``text`` and ``table``, laid out as AWS CLI v1 lays them out.

JSON: indent 4, non-ASCII kept, nothing printed for an empty response. Text: one tab-separated
row per object, scalar keys sorted, nested values after, list rows prefixed with the key in capitals.
Table: see :mod:`openrek.cli.table`.
"""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any, TextIO


def json_default(obj: Any) -> Any:
    if isinstance(obj, datetime.datetime):
        return obj.isoformat()
    if isinstance(obj, bytes):
        return base64.b64encode(obj).decode("utf-8")
    raise TypeError("Encountered unrecognized type in JSON encoder.")


def _drop_metadata(data: Any) -> None:
    if isinstance(data, dict):
        data.pop("ResponseMetadata", None)


def _is_paginated(response: Any) -> bool:
    return hasattr(response, "build_full_result") and hasattr(response, "result_keys")


def _full(response: Any) -> Any:
    return response.build_full_result() if _is_paginated(response) else response


def write_json(data: Any, stream: TextIO) -> None:
    if data != {}:
        json.dump(data, stream, indent=4, default=json_default, ensure_ascii=False)
        stream.write("\n")


def format_response(
    output: str, command_name: str, response: Any, query: Any, color: str, stream: TextIO
) -> None:
    """Print a response (a dict or a botocore page iterator) in the chosen format."""
    if output == "text":
        _text_response(response, query, stream)
        return
    data = _full(response)
    _drop_metadata(data)
    if query is not None:
        data = query.search(data)
    try:
        if output == "json":
            write_json(data, stream)
        elif output == "table":
            from openrek.cli.table import render_table

            render_table(command_name, data, color, stream)
        else:
            raise ValueError(f"Unknown output type: {output}")
    except OSError:
        pass
    finally:
        try:
            stream.flush()
        except OSError:
            pass


def _text_response(response: Any, query: Any, stream: TextIO) -> None:
    try:
        if _is_paginated(response):
            from botocore.utils import set_value_from_jmespath

            keys = response.result_keys
            for i, page in enumerate(response):
                current = response.non_aggregate_part if i == 0 else {}
                for key in keys:
                    set_value_from_jmespath(current, key.expression, key.search(page))
                _text_one(current, query, stream)
            if response.resume_token:
                _text_one({"NextToken": {"NextToken": response.resume_token}}, query, stream)
        else:
            _drop_metadata(response)
            _text_one(response, query, stream)
    finally:
        try:
            stream.flush()
        except OSError:
            pass


def _text_one(data: Any, query: Any, stream: TextIO) -> None:
    if query is not None:
        data = query.search(data)
    write_text(data, stream)


def write_text(item: Any, stream: TextIO, identifier: str | None = None, scalar_keys: list[str] | None = None) -> None:
    if isinstance(item, dict):
        _text_dict(item, stream, identifier, scalar_keys)
    elif isinstance(item, list):
        _text_list(item, stream, identifier)
    else:
        stream.write(f"{item}\n")


def _is_scalar(v: Any) -> bool:
    return not isinstance(v, (dict, list))


def _text_list(items: list[Any], stream: TextIO, identifier: str | None) -> None:
    if not items:
        return
    if any(isinstance(e, dict) for e in items):
        keys = sorted({k for e in items for k, v in e.items() if _is_scalar(v)})
        for e in items:
            write_text(e, stream, identifier, keys)
    elif any(isinstance(e, list) for e in items):
        scalars = [e for e in items if _is_scalar(e)]
        others = [e for e in items if not _is_scalar(e)]
        if scalars:
            _text_scalars(scalars, stream, identifier)
        for e in others:
            write_text(e, stream, identifier)
    else:
        _text_scalars(items, stream, identifier)


def _text_scalars(items: list[Any], stream: TextIO, identifier: str | None) -> None:
    if identifier is not None:
        for e in items:
            stream.write(f"{identifier.upper()}\t{e}\n")
    else:
        stream.write("\t".join(str(e) for e in items) + "\n")


def _text_dict(item: dict[str, Any], stream: TextIO, identifier: str | None, scalar_keys: list[str] | None) -> None:
    scalars: list[str] = []
    nested: list[tuple[str, Any]] = []
    if scalar_keys is None:
        for k, v in sorted(item.items()):
            if _is_scalar(v):
                scalars.append(str(v))
            else:
                nested.append((k, v))
    else:
        scalars = [str(item.get(k, "")) for k in scalar_keys]
        nested = [(k, item[k]) for k in sorted(set(item) - set(scalar_keys))]
    if scalars:
        if identifier is not None:
            scalars.insert(0, identifier.upper())
        stream.write("\t".join(scalars) + "\n")
    for k, v in nested:
        write_text(v, stream, k)
