"""The Rekognition service model, read straight from botocore's data files with ``json``.

Importing botocore's loaders costs a quarter of a second; the CLI only needs the shapes of one
operation to parse its arguments, print a skeleton or render help, so it reads the files itself.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
from functools import cached_property
from typing import Any

SERVICE_NAME = "rekognition"
API_VERSION = "2016-06-27"

SCALAR_TYPES = frozenset({"string", "float", "integer", "long", "boolean", "double", "blob", "timestamp"})
COMPLEX_TYPES = frozenset({"structure", "map", "list"})


def _botocore_data_dir() -> str:
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed")
    return os.path.join(list(spec.submodule_search_locations)[0], "data")


def _load_json(name: str) -> dict[str, Any]:
    base = os.path.join(_botocore_data_dir(), SERVICE_NAME, API_VERSION, name)
    if os.path.exists(base):
        with open(base, encoding="utf-8") as f:
            return json.load(f)
    with gzip.open(base + ".gz", "rt", encoding="utf-8") as f:
        return json.load(f)


class Shape:
    """One shape of the model, optionally seen through a member reference (with its traits)."""

    def __init__(self, model: ServiceModel, name: str, ref: dict[str, Any] | None = None) -> None:
        self.model = model
        self.name = name
        self.spec: dict[str, Any] = model.shapes[name]
        self.ref: dict[str, Any] = ref or {}

    @property
    def type_name(self) -> str:
        return self.spec["type"]

    @property
    def documentation(self) -> str:
        return self.ref.get("documentation", self.spec.get("documentation", ""))

    @property
    def enum(self) -> list[str]:
        return self.spec.get("enum", [])

    @property
    def required_members(self) -> list[str]:
        return self.spec.get("required", [])

    @property
    def metadata(self) -> dict[str, Any]:
        keys = ("min", "max", "pattern", "sensitive", "deprecated", "idempotencyToken", "document")
        meta = {k: self.spec[k] for k in keys if k in self.spec}
        meta.update({k: self.ref[k] for k in keys if k in self.ref})
        return meta

    @property
    def is_document_type(self) -> bool:
        return bool(self.spec.get("document"))

    @property
    def streaming(self) -> bool:
        return bool(self.spec.get("streaming") or self.ref.get("streaming"))

    @cached_property
    def members(self) -> dict[str, Shape]:
        return {n: Shape(self.model, r["shape"], r) for n, r in self.spec.get("members", {}).items()}

    @cached_property
    def member(self) -> Shape:
        ref = self.spec["member"]
        return Shape(self.model, ref["shape"], ref)

    @cached_property
    def key(self) -> Shape:
        ref = self.spec["key"]
        return Shape(self.model, ref["shape"], ref)

    @cached_property
    def value(self) -> Shape:
        ref = self.spec["value"]
        return Shape(self.model, ref["shape"], ref)

    def __repr__(self) -> str:
        return f"<Shape {self.name} ({self.type_name})>"


class Operation:
    """An operation of the service: its name, documentation and input/output shapes."""

    def __init__(self, model: ServiceModel, name: str) -> None:
        self.model = model
        self.name = name
        self.spec: dict[str, Any] = model.data["operations"][name]

    @property
    def documentation(self) -> str:
        return self.spec.get("documentation", "")

    @property
    def deprecated(self) -> bool:
        return bool(self.spec.get("deprecated"))

    @cached_property
    def input_shape(self) -> Shape | None:
        ref = self.spec.get("input")
        return Shape(self.model, ref["shape"], ref) if ref else None

    @cached_property
    def output_shape(self) -> Shape | None:
        ref = self.spec.get("output")
        return Shape(self.model, ref["shape"], ref) if ref else None


class ServiceModel:
    """The service description plus its paginators and waiters, loaded on first use."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.shapes: dict[str, Any] = data["shapes"]

    @property
    def operation_names(self) -> list[str]:
        return list(self.data["operations"])

    @property
    def metadata(self) -> dict[str, Any]:
        return self.data["metadata"]

    @property
    def documentation(self) -> str:
        return self.data.get("documentation", "")

    def operation(self, name: str) -> Operation:
        return Operation(self, name)

    @cached_property
    def paginators(self) -> dict[str, Any]:
        try:
            return _load_json("paginators-1.json").get("pagination", {})
        except FileNotFoundError:
            return {}

    @cached_property
    def waiters(self) -> dict[str, Any]:
        try:
            return _load_json("waiters-2.json").get("waiters", {})
        except FileNotFoundError:
            return {}


_MODEL: ServiceModel | None = None


def load_service_model() -> ServiceModel:
    """The Rekognition model from the installed botocore (cached per process)."""
    global _MODEL
    if _MODEL is None:
        _MODEL = ServiceModel(_load_json("service-2.json"))
    return _MODEL
