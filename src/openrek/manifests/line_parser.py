"""One manifest JSON line → its source-ref and label attributes, with AWS's per-line error codes.

Recognises Ground Truth image classification (`<attr>` + `<attr>-metadata.class-name`; several pairs on a
line = multi-label), the multi-label form AWS's Ground Truth transform writes (the same integer +
`class-name` pairs, typed `groundtruth/image-classification-multilabel`), SageMaker's native multi-label
form (`"<attr>": [ids]` with `class-map`), object detection (`annotations[]` in pixels) and Content
Moderation adapter lines (`content-moderation-groundtruth`). Checks that need the
image (box geometry against the frame, image dimensions) live in `validation.py`; this module does no I/O.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from .. import json_input
from . import rules
from .rules import DEFAULT_LIMITS, Limits
from .s3uri import S3Uri, S3UriError, parse_s3_uri
from .types import ManifestError

AttrKind = Literal["classification", "multilabel", "detection", "moderation"]

_KNOWN_TYPES: dict[str, AttrKind] = {
    rules.TYPE_CLASSIFICATION: "classification",
    rules.TYPE_MULTILABEL: "multilabel",
    rules.TYPE_DETECTION: "detection",
}


@dataclass
class Annotation:
    """One entry of a detection attribute's `annotations[]`, in the pixel frame of `image_size`."""

    index: int
    label: str | None
    left: float | None
    top: float | None
    width: float | None
    height: float | None
    errors: list[ManifestError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class LabelAttribute:
    """One label attribute of a line (`<attr>` with `<attr>-metadata`, or the moderation attribute)."""

    name: str
    kind: AttrKind | None  # None: the attribute could not be understood
    labels: list[str] = field(default_factory=list)  # image-level labels (not used for detection)
    annotations: list[Annotation] = field(default_factory=list)
    image_size: tuple[int, int] | None = None  # (width, height) from a detection attribute's image_size
    value_errors: list[ManifestError] = field(default_factory=list)  # about `<attr>`'s value
    metadata_errors: list[ManifestError] = field(default_factory=list)  # about `<attr>-metadata`
    warnings: list[ManifestError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.kind is not None and not self.value_errors and not self.metadata_errors

    @property
    def is_empty(self) -> bool:
        """A usable attribute that annotates nothing (no boxes; for multi-label, no classes)."""
        if self.kind == "detection":
            return not self.annotations
        if self.kind == "multilabel":
            return not self.labels
        return False


@dataclass
class ParsedLine:
    """A manifest line after parsing, before its image is checked."""

    line_index: int  # 0-based physical line in its manifest file
    manifest_uri: str
    text: str
    obj: dict[str, Any] | None = None  # the JSON object, previous `errors` keys removed
    source: S3Uri | None = None
    line_errors: list[ManifestError] = field(default_factory=list)
    attributes: list[LabelAttribute] = field(default_factory=list)
    unannotated: bool = False  # only a source-ref: WARNING_UNANNOTATED_RECORD

    @property
    def where(self) -> str:
        return where(self.manifest_uri, self.line_index)


def where(manifest_uri: str, line_index: int) -> str:
    """'line 7 of s3://b/k' (1-based, as a person counts lines)."""
    return f"line {line_index + 1} of {manifest_uri}"


def line_error(code: str, at: str, text: str) -> ManifestError:
    """An error whose message starts with where it is: 'Line 7 of s3://b/k: …'."""
    return ManifestError(code, f"{at[0].upper()}{at[1:]}: {text}")


def strip_errors(value: Any) -> Any:
    """A copy of a parsed line without the `errors` keys a previous validation manifest added."""
    if isinstance(value, dict):
        return {k: strip_errors(v) for k, v in value.items() if k != "errors"}
    if isinstance(value, list):
        return [strip_errors(v) for v in value]
    return value


def parse_line(text: str, line_index: int, manifest_uri: str, limits: Limits = DEFAULT_LIMITS) -> ParsedLine:
    """Parse one JSON line into a `ParsedLine`, recording AWS's per-line codes on it."""
    line = ParsedLine(line_index=line_index, manifest_uri=manifest_uri, text=text)
    at = line.where
    try:
        obj = json_input.loads(text)
    except json_input.JsonInputError as exc:
        where_in_line = f" at column {exc.colno}" if exc.colno is not None else ""
        line.line_errors.append(line_error(
            rules.ERROR_INVALID_JSON_LINE, at,
            f"the JSON Line has an invalid format ({exc.msg}{where_in_line}). Each line must be one complete "
            "JSON object; fix or remove it."))
        return line
    if not isinstance(obj, dict):
        line.line_errors.append(line_error(
            rules.ERROR_INVALID_JSON_LINE, at,
            "the JSON Line has an invalid format: it is valid JSON but not an object. Each line must be one "
            "JSON object such as {\"source-ref\": \"s3://bucket/image.jpg\", ...}."))
        return line
    obj = strip_errors(obj)
    line.obj = obj

    if "source-ref" not in obj:
        line.line_errors.append(line_error(
            rules.ERROR_MISSING_SOURCE_REF, at,
            "the source-ref key is missing. Add \"source-ref\": \"s3://bucket/path/image.jpg\" (check its "
            "spelling) naming the image this line labels."))
    else:
        try:
            line.source = parse_s3_uri(obj["source-ref"])
        except S3UriError as exc:
            line.line_errors.append(line_error(
                rules.ERROR_INVALID_SOURCE_REF_FORMAT, at,
                f"the format of the source-ref value is invalid: {exc}."))

    line.attributes = _parse_attributes(obj, at, limits)
    other_keys = [k for k in obj if k != "source-ref"]
    if not line.attributes:
        if not other_keys:
            line.unannotated = True
        else:
            shown = ", ".join(repr(k) for k in other_keys[:5])
            line.line_errors.append(line_error(
                rules.ERROR_NO_LABEL_ATTRIBUTES, at,
                f"no label attributes found: none of the keys {shown} is a label attribute with a matching "
                "\"<attribute>-metadata\" key. Add the metadata (with \"type\" and \"class-name\" or "
                "\"class-map\") or rename the keys so each label attribute has one."))
    return line


def _parse_attributes(obj: dict[str, Any], at: str, limits: Limits) -> list[LabelAttribute]:
    attrs: list[LabelAttribute] = []
    for key in obj:
        if key == "source-ref" or key.endswith("-metadata"):
            continue
        if key == rules.MODERATION_ATTRIBUTE:
            attrs.append(_parse_moderation(obj[key], at, limits))
        elif f"{key}-metadata" in obj:
            attrs.append(_parse_attribute(key, obj[key], obj[f"{key}-metadata"], at, limits))
    return attrs


def _infer_type(value: Any, metadata: dict[str, Any]) -> str | None:
    if isinstance(value, dict) and "annotations" in value:
        return rules.TYPE_DETECTION
    if isinstance(value, list) and "class-map" in metadata:
        return rules.TYPE_MULTILABEL
    if "class-name" in metadata:
        return rules.TYPE_CLASSIFICATION
    return None


def _parse_attribute(name: str, value: Any, metadata: Any, at: str, limits: Limits) -> LabelAttribute:
    attr = LabelAttribute(name=name, kind=None)
    if not isinstance(metadata, dict):
        attr.metadata_errors.append(line_error(
            rules.ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT, at,
            f"the format of the label attribute metadata \"{name}-metadata\" is invalid: it must be a JSON "
            "object with \"type\" and \"class-name\" (classification) or \"class-map\" (detection)."))
        return attr
    type_ = metadata.get("type")
    if type_ is None:
        type_ = _infer_type(value, metadata)
        if type_ is None:
            attr.metadata_errors.append(line_error(
                rules.ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT, at,
                f"the format of the label attribute metadata \"{name}-metadata\" is invalid: it has no "
                f"\"type\". Add \"type\": \"{rules.TYPE_CLASSIFICATION}\" (with \"class-name\") or "
                f"\"{rules.TYPE_DETECTION}\" (with \"class-map\")."))
            return attr
    kind = _KNOWN_TYPES.get(type_) if isinstance(type_, str) else None
    if kind is None:
        attr.metadata_errors.append(line_error(
            rules.ERROR_UNSUPPORTED_USE_CASE_TYPE, at,
            f"the value of \"type\" in \"{name}-metadata\" is not valid: {type_!r}. Custom Labels supports "
            f"\"{rules.TYPE_CLASSIFICATION}\", \"{rules.TYPE_MULTILABEL}\" and \"{rules.TYPE_DETECTION}\"."))
        return attr
    attr.kind = kind
    if kind == "classification":
        _parse_classification(attr, value, metadata, at, limits)
    elif kind == "multilabel":
        _parse_multilabel(attr, value, metadata, at, limits)
    else:
        _parse_detection(attr, value, metadata, at, limits)
    return attr


def _check_label_name(attr: LabelAttribute, label: Any, at: str, limits: Limits, source: str) -> str | None:
    if not isinstance(label, str) or not label.strip():
        attr.metadata_errors.append(line_error(
            rules.ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT, at,
            f"the format of the label attribute metadata \"{attr.name}-metadata\" is invalid: {source} must be "
            f"a non-empty string, not {json.dumps(label)}."))
        return None
    if len(label) > limits.max_label_name_length:
        attr.metadata_errors.append(line_error(
            rules.ERROR_INVALID_LABEL_NAME_LENGTH, at,
            f"the label name {label[:40]!r}… in \"{attr.name}-metadata\" is {len(label)} characters long; "
            f"label names can be at most {limits.max_label_name_length} characters. Shorten it."))
        return None
    return label


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_classification(attr: LabelAttribute, value: Any, metadata: dict[str, Any], at: str,
                          limits: Limits, type_name: str = rules.TYPE_CLASSIFICATION) -> None:
    """`"<attr>": <int>` with `class-name`: one image-level label (also AWS's multi-label transform form)."""
    if not _is_int(value):
        attr.value_errors.append(line_error(
            rules.ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT, at,
            f"the format of the label attribute \"{attr.name}\" is invalid: for \"{type_name}\" "
            f"with \"class-name\" it must be an integer class id, not {json.dumps(value)[:60]}."))
    if "class-name" not in metadata:
        attr.metadata_errors.append(line_error(
            rules.ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT, at,
            f"the format of the label attribute metadata \"{attr.name}-metadata\" is invalid: \"class-name\" "
            "is missing. Add \"class-name\": \"<label>\"."))
        return
    label = _check_label_name(attr, metadata["class-name"], at, limits, "\"class-name\"")
    if label is not None:
        attr.labels = [label]


def _class_map(attr: LabelAttribute, metadata: dict[str, Any], at: str, type_name: str,
               example: str) -> dict[str, Any] | None:
    """The metadata's "class-map", or None after recording why it is unusable."""
    class_map = metadata.get("class-map")
    if isinstance(class_map, dict):
        return class_map
    attr.metadata_errors.append(line_error(
        rules.ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT, at,
        f"the format of the label attribute metadata \"{attr.name}-metadata\" is invalid: "
        f"\"{type_name}\" needs a \"class-map\" object such as {{\"0\": \"{example}\"}}."))
    return None


def _parse_multilabel(attr: LabelAttribute, value: Any, metadata: dict[str, Any], at: str,
                      limits: Limits) -> None:
    """Either of the two multi-label forms, told apart by the value and the metadata.

    SageMaker's native form is a list of ids resolved through `class-map`; AWS's Ground Truth transform
    writes one integer attribute per label with `class-name` beside it (and no `class-map`).
    """
    if not isinstance(value, list) and "class-map" not in metadata:
        if "class-name" in metadata:
            _parse_classification(attr, value, metadata, at, limits, rules.TYPE_MULTILABEL)
            return
        attr.metadata_errors.append(line_error(
            rules.ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT, at,
            f"the format of the label attribute metadata \"{attr.name}-metadata\" is invalid: "
            f"\"{rules.TYPE_MULTILABEL}\" needs \"class-name\" (for an integer value, one label per "
            "attribute) or a \"class-map\" object such as {\"0\": \"cat\"} (for a list of class ids)."))
        return
    class_map = _class_map(attr, metadata, at, rules.TYPE_MULTILABEL, "cat")
    if class_map is None:
        return
    if not isinstance(value, list) or not all(_is_int(v) for v in value):
        attr.value_errors.append(line_error(
            rules.ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT, at,
            f"the format of the label attribute \"{attr.name}\" is invalid: for \"{rules.TYPE_MULTILABEL}\" it "
            f"must be a list of integer class ids, not {json.dumps(value)[:60]}."))
        return
    labels: list[str] = []
    for class_id in value:
        if str(class_id) not in class_map:
            attr.metadata_errors.append(line_error(
                rules.ERROR_MISSING_CLASS_MAP_ID, at,
                f"class id {class_id} of \"{attr.name}\" is missing from the class map of "
                f"\"{attr.name}-metadata\". Add \"{class_id}\": \"<label>\" to \"class-map\"."))
            continue
        label = _check_label_name(attr, class_map[str(class_id)], at, limits, f"class-map[\"{class_id}\"]")
        if label is not None and label not in labels:
            labels.append(label)
    if len(labels) > limits.max_labels_per_image:
        attr.value_errors.append(line_error(
            rules.ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT, at,
            f"\"{attr.name}\" gives the image {len(labels)} labels; an image can have at most "
            f"{limits.max_labels_per_image}."))
    attr.labels = labels


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _parse_image_size(value: Any) -> tuple[int, int] | None:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        w, h = _number(value[0].get("width")), _number(value[0].get("height"))
        if w is not None and h is not None and w > 0 and h > 0:
            return int(w), int(h)
    return None


def _parse_detection(attr: LabelAttribute, value: Any, metadata: dict[str, Any], at: str,
                     limits: Limits) -> None:
    class_map = _class_map(attr, metadata, at, rules.TYPE_DETECTION, "raccoon")
    if not isinstance(value, dict) or not isinstance(value.get("annotations"), list):
        attr.value_errors.append(line_error(
            rules.ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT, at,
            f"the format of the label attribute \"{attr.name}\" is invalid: for \"{rules.TYPE_DETECTION}\" it "
            "must be an object with an \"annotations\" list (and \"image_size\")."))
        return
    if "image_size" in value:
        attr.image_size = _parse_image_size(value["image_size"])
        if attr.image_size is None:
            attr.value_errors.append(line_error(
                rules.ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT, at,
                f"\"image_size\" of \"{attr.name}\" must be a list holding one object with positive "
                "\"width\" and \"height\" (and \"depth\"), e.g. [{\"width\": 640, \"height\": 480, \"depth\": 3}]."))
    if not isinstance(class_map, dict):
        return
    objects = metadata.get("objects")
    objects = objects if isinstance(objects, list) else []
    for i, raw in enumerate(value["annotations"]):
        attr.annotations.append(_parse_annotation(attr.name, i, raw, class_map, objects, at, limits))


def _parse_annotation(attr_name: str, index: int, raw: Any, class_map: dict[str, Any], objects: list[Any],
                      at: str, limits: Limits) -> Annotation:
    ann = Annotation(index=index, label=None, left=None, top=None, width=None, height=None)
    what = f"annotation {index} of \"{attr_name}\""
    if not isinstance(raw, dict):
        ann.errors.append(line_error(
            rules.ERROR_INVALID_BOUNDING_BOX, at,
            f"{what} is not an object with class_id, left, top, width and height."))
        return ann
    ann.left, ann.top = _number(raw.get("left")), _number(raw.get("top"))
    ann.width, ann.height = _number(raw.get("width")), _number(raw.get("height"))
    missing = [k for k in ("left", "top", "width", "height") if getattr(ann, k) is None]
    if missing:
        ann.errors.append(line_error(
            rules.ERROR_INVALID_BOUNDING_BOX, at,
            f"the bounding box of {what} has missing or non-numeric {', '.join(missing)}; give left, top, "
            "width and height as numbers of pixels."))
    class_id = raw.get("class_id")
    if isinstance(class_id, str) and class_id.strip().isdigit():
        class_id = int(class_id)
    if isinstance(class_id, float) and class_id.is_integer():
        class_id = int(class_id)
    if not _is_int(class_id) or str(class_id) not in class_map:
        ann.errors.append(line_error(
            rules.ERROR_MISSING_CLASS_MAP_ID, at,
            f"class_id {json.dumps(class_id)} of {what} is missing from the class map of "
            f"\"{attr_name}-metadata\". Add it to \"class-map\" or correct the class_id."))
    else:
        label = class_map[str(class_id)]
        if not isinstance(label, str) or not label.strip():
            ann.errors.append(line_error(
                rules.ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT, at,
                f"class-map[\"{class_id}\"] of \"{attr_name}-metadata\" must be a non-empty label name."))
        elif len(label) > limits.max_label_name_length:
            ann.errors.append(line_error(
                rules.ERROR_INVALID_LABEL_NAME_LENGTH, at,
                f"the label name {label[:40]!r}… is {len(label)} characters long; label names can be at most "
                f"{limits.max_label_name_length} characters."))
        else:
            ann.label = label
    obj = objects[index] if index < len(objects) else None
    if not isinstance(obj, dict) or _number(obj.get("confidence")) is None:
        ann.errors.append(line_error(
            rules.ERROR_MISSING_BOUNDING_BOX_CONFIDENCE, at,
            f"{what} has no confidence value: \"{attr_name}-metadata\".objects[{index}] must be "
            "{\"confidence\": <0-1>}. Add one \"objects\" entry per annotation, in the same order."))
    return ann


def _parse_moderation(value: Any, at: str, limits: Limits) -> LabelAttribute:
    attr = LabelAttribute(name=rules.MODERATION_ATTRIBUTE, kind="moderation")
    items = value.get("ModerationLabels") if isinstance(value, dict) else None
    if not isinstance(items, list):
        attr.value_errors.append(line_error(
            rules.ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT, at,
            f"the format of the label attribute \"{rules.MODERATION_ATTRIBUTE}\" is invalid: it must be "
            "{\"ModerationLabels\": [{\"Name\": \"<label>\"}, ...]} (an empty list marks a safe image)."))
        return attr
    labels: list[str] = []
    for i, item in enumerate(items):
        name = item.get("Name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name.strip():
            attr.value_errors.append(line_error(
                rules.ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT, at,
                f"ModerationLabels[{i}] of \"{rules.MODERATION_ATTRIBUTE}\" must be {{\"Name\": \"<label>\"}}."))
            continue
        if len(name) > limits.max_label_name_length:
            attr.value_errors.append(line_error(
                rules.ERROR_INVALID_LABEL_NAME_LENGTH, at,
                f"the moderation label {name[:40]!r}… is longer than {limits.max_label_name_length} characters."))
            continue
        if name not in labels:
            labels.append(name)
    attr.labels = labels
    return attr


def check_box_geometry(ann: Annotation, frame_w: float, frame_h: float, at: str, attr_name: str) -> None:
    """Add ERROR_INVALID_BOUNDING_BOX / ERROR_BOUNDING_BOX_TOO_SMALL for a box against a w×h frame."""
    if ann.left is None or ann.top is None or ann.width is None or ann.height is None:
        return
    what = f"annotation {ann.index} of \"{attr_name}\""
    box = f"(left {ann.left:g}, top {ann.top:g}, width {ann.width:g}, height {ann.height:g})"
    if (ann.width < 0 or ann.height < 0 or ann.left < 0 or ann.top < 0
            or ann.left + ann.width > frame_w or ann.top + ann.height > frame_h):
        ann.errors.append(line_error(
            rules.ERROR_INVALID_BOUNDING_BOX, at,
            f"the bounding box of {what} {box} has off frame values: it must lie inside the "
            f"{frame_w:g}x{frame_h:g} pixel image (left, top >= 0, left+width <= {frame_w:g}, "
            f"top+height <= {frame_h:g}). Correct or remove it."))
    elif ann.width <= 1 or ann.height <= 1:
        ann.errors.append(line_error(
            rules.ERROR_BOUNDING_BOX_TOO_SMALL, at,
            f"the height and width of the bounding box of {what} {box} are too small: both must be greater "
            "than 1 pixel. Correct or remove it."))
