"""Whole-manifest validation as Rekognition does it during training.

`validate_manifests` reads one role's manifest files (training or testing) through the object store,
raises `TerminalManifestError` for terminal *file* errors (nothing is written then), parses every line,
decides the use case, checks every image, and returns a `ValidatedManifest`: the valid records, AWS's
counters, the annotated lines of the *ManifestWithValidation file, and the role's terminal *content*
errors (too many invalid rows, images in several buckets) in `errors` — recorded, not raised, so that
the manifest summary can still be written. The cross-manifest checks live in `datasets.py`.
"""

from __future__ import annotations

import codecs
import copy
import json
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, BinaryIO, Literal

from ..store.objects import NoSuchBucket, ObjectStore, ObjectStoreError, is_internal_bucket
from . import rules
from .image_check import ImageInfo, check_image
from .line_parser import (
    Annotation,
    LabelAttribute,
    ParsedLine,
    check_box_geometry,
    line_error,
    parse_line,
    where,
)
from .line_spool import JsonLinesStream, LineSpool
from .refs import ManifestRef, as_ref
from .rules import DEFAULT_LIMITS, Limits
from .types import Box, ManifestError, ManifestRecord, TerminalManifestError, UseCase

Role = Literal["training", "testing"]
LineStatus = Literal["valid", "invalid", "ignored"]
Feature = Literal["CUSTOM_LABELS", "CONTENT_MODERATION"]

_IMAGE_LEVEL_KINDS = ("classification", "multilabel")
_LINE_TERMINAL_CODES = {rules.ERROR_INVALID_PERMISSIONS_IMAGES_S3_BUCKET}


@dataclass(eq=False, slots=True)
class ValidatedLine:
    """One manifest line after validation, kept small: its texts live in the manifest's `LineSpool`.

    `line_errors` are the line-level errors and warnings; `codes` every code anywhere on the line
    (line, attributes, metadata, annotations); `declared` the labels its use-case attributes name.
    """

    line_index: int
    manifest_uri: str
    status: LineStatus
    record: ManifestRecord | None
    image: ImageInfo | None
    line_errors: list[ManifestError]
    codes: tuple[str, ...]
    first: ManifestError | None
    source_ref: str | None  # the line's source-ref, when it is a valid S3 URI
    bucket: str | None  # the bucket of that source-ref
    unannotated: bool
    declared: tuple[str, ...]
    named: dict[str, int]  # every label any attribute names → its boxes (for dataset entries)
    spool: LineSpool
    validation_at: int  # spool index of the *ManifestWithValidation line
    object_at: int | None  # spool index of the JSON object as read, `errors` removed (None: not an object)

    def all_codes(self) -> list[str]:
        """Every code recorded anywhere on the line (line, attributes, metadata, annotations)."""
        return list(self.codes)

    def first_error(self) -> ManifestError | None:
        """The first ERROR_ recorded on the line, most general first."""
        return self.first

    def validation_text(self) -> str:
        """The line as AWS writes it in a *ManifestWithValidation file (JSON, one line)."""
        return self.spool.text(self.validation_at)

    def validation_json(self) -> dict[str, Any]:
        return json.loads(self.validation_text())

    def object_text(self) -> str | None:
        """The line's JSON object as read (previous `errors` removed), or None when it is not one."""
        return None if self.object_at is None else self.spool.text(self.object_at)


def _validation_json(p: ParsedLine) -> dict[str, Any]:
    """The line as AWS writes it in a *ManifestWithValidation file: `errors` on every level."""
    line_errors = [e.to_json() for e in p.line_errors]
    if p.obj is None:
        return {"errors": line_errors, "invalid-json-line": p.text}
    obj = copy.deepcopy(p.obj)
    out: dict[str, Any] = {}
    if "source-ref" in obj:
        out["source-ref"] = obj.pop("source-ref")
    out["errors"] = line_errors
    out.update(obj)
    for attr in p.attributes:
        value = out.get(attr.name)
        meta = out.get(f"{attr.name}-metadata")
        value_errors = [e.to_json() for e in attr.value_errors + attr.warnings]
        meta_errors = [e.to_json() for e in attr.metadata_errors]
        if isinstance(value, dict):
            value["errors"] = value_errors
            annotations = value.get("annotations")
            if isinstance(annotations, list):
                for ann in attr.annotations:
                    if ann.index < len(annotations) and isinstance(annotations[ann.index], dict):
                        annotations[ann.index]["errors"] = [e.to_json() for e in ann.errors]
        else:
            meta_errors = value_errors + meta_errors
        if isinstance(meta, dict):
            meta["errors"] = meta_errors
        elif meta_errors:
            out["errors"].extend(meta_errors)
    return out


def _codes(p: ParsedLine) -> list[ManifestError]:
    """Every error and warning on the line, most general first."""
    found = [*p.line_errors]
    for attr in p.attributes:
        found += attr.value_errors + attr.metadata_errors + attr.warnings
        for ann in attr.annotations:
            found += ann.errors
    return found


def _compacted(p: ParsedLine, status: LineStatus, record: ManifestRecord | None, image: ImageInfo | None,
               use_case: UseCase, moderation: bool, spool: LineSpool) -> ValidatedLine:
    """The small `ValidatedLine` of a resolved `ParsedLine`; its texts go to `spool`."""
    found = _codes(p)
    first = next((e for e in found if e.code.startswith("ERROR_")), None)
    declared: list[str] = []
    for attr in _relevant(p.attributes, use_case, moderation):
        declared += attr.labels
        declared += [a.label for a in attr.annotations if a.label is not None]
    named: dict[str, int] = {}
    if record is None:
        for attr in p.attributes:
            for name in attr.labels:
                named.setdefault(name, 0)
            for ann in attr.annotations:
                if ann.label is not None:
                    named[ann.label] = named.get(ann.label, 0) + 1
    object_at = None if p.obj is None else spool.append(json.dumps(p.obj, ensure_ascii=False))
    validation_at = spool.append(json.dumps(_validation_json(p), ensure_ascii=False))
    source_ok = p.obj is not None and p.source is not None and isinstance(p.obj.get("source-ref"), str)
    if record is not None and object_at is not None:
        record.raw_json = partial(spool.text, object_at)
    return ValidatedLine(
        line_index=p.line_index, manifest_uri=p.manifest_uri, status=status, record=record, image=image,
        line_errors=list(p.line_errors), codes=tuple(e.code for e in found), first=first,
        source_ref=p.obj["source-ref"] if source_ok and p.obj is not None else None,
        bucket=p.source.bucket if p.source is not None else None, unannotated=p.unannotated,
        declared=tuple(dict.fromkeys(declared)), named=named, spool=spool, validation_at=validation_at,
        object_at=object_at)


@dataclass
class ValidatedManifest:
    """One role's manifests after validation (several files are concatenated in order)."""

    role: Role
    refs: list[ManifestRef]
    use_case: UseCase
    content_moderation: bool
    lines: list[ValidatedLine]
    errors: list[ManifestError] = field(default_factory=list)  # this role's terminal content errors

    @property
    def records(self) -> list[ManifestRecord]:
        return [line.record for line in self.lines if line.record is not None]

    @property
    def labels(self) -> list[str]:
        """The labels of the valid records ("usable" labels), sorted."""
        found: set[str] = set()
        for record in self.records:
            found.update(record.labels)
        return sorted(found)

    @property
    def declared_labels(self) -> list[str]:
        """Every label any line names for this use case, valid or not, sorted."""
        found: set[str] = set()
        for line in self.lines:
            found.update(line.declared)
        return sorted(found)

    @property
    def total_json_lines(self) -> int:
        return len(self.lines)

    @property
    def valid_json_lines(self) -> int:
        return sum(1 for line in self.lines if line.status == "valid")

    @property
    def invalid_json_lines(self) -> int:
        return sum(1 for line in self.lines if line.status == "invalid")

    @property
    def ignored_json_lines(self) -> int:
        return sum(1 for line in self.lines if line.status == "ignored")

    @property
    def error_json_line_indices(self) -> list[int]:
        """1-based numbers of the invalid lines in this role's *ManifestWithValidation file."""
        return [i + 1 for i, line in enumerate(self.lines) if line.status == "invalid"]

    @property
    def image_buckets(self) -> list[str]:
        return sorted({line.bucket for line in self.lines if line.bucket is not None})

    def statistics_json(self) -> dict[str, Any]:
        """This role's entry under ManifestSummary's `statistics`."""
        return {
            "use_case": self.use_case,
            "total_json_lines": self.total_json_lines,
            "valid_json_lines": self.valid_json_lines,
            "invalid_json_lines": self.invalid_json_lines,
            "ignored_json_lines": self.ignored_json_lines,
            "error_json_line_indices": self.error_json_line_indices,
            "errors": [e.to_json() for e in self.errors],
        }

    def validation_manifest(self) -> JsonLinesStream:
        """The *ManifestWithValidation file, as a stream: one annotated JSON line per input line."""
        return JsonLinesStream(line.validation_text() for line in self.lines)

    def validation_manifest_bytes(self) -> bytes:
        return self.validation_manifest().read()

    def subset(self, keep: Callable[[ValidatedLine], bool], role: Role) -> ValidatedManifest:
        """The lines for which `keep` is true, as a manifest of `role` (used by AutoCreate's split)."""
        return ValidatedManifest(role=role, refs=list(self.refs), use_case=self.use_case,
                                 content_moderation=self.content_moderation,
                                 lines=[line for line in self.lines if keep(line)],
                                 errors=list(self.errors) if role == self.role else [])


# ------------------------------------------------------------------------------------------- file errors

def _describe(ref: ManifestRef, role: Role, position: int) -> str:
    where = "TrainingData" if role == "training" else "TestingData"
    version = f" (version {ref.version})" if ref.version else ""
    return f"The {role} manifest {ref.uri}{version} ({where}.Assets[{position}])"


def _unreadable(exc: ObjectStoreError, ref: ManifestRef, what: str) -> TerminalManifestError:
    if exc.code == "AccessDenied":
        return TerminalManifestError(
            rules.ERROR_INVALID_PERMISSIONS_MANIFEST_S3_BUCKET,
            f"{what} could not be read: access to the bucket {ref.bucket!r} was denied. "
            "Grant read access to the manifest.")
    return TerminalManifestError(
        rules.ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT,
        f"{what} could not be read ({exc.code}: {exc.message}). Check the bucket, name and version in "
        "the request, and that the manifest was uploaded.")


@dataclass
class _SpooledFile:
    """One manifest file's non-blank lines: their 0-based physical numbers and their places in the spool."""

    uri: str
    numbers: array[int] = field(default_factory=lambda: array("q"))
    at: array[int] = field(default_factory=lambda: array("q"))

    def add(self, number: int, at: int) -> None:
        self.numbers.append(number)
        self.at.append(at)


_READ_CHUNK = 1 << 20


def _decoded(stream: BinaryIO, what: str) -> Iterator[str]:
    """The stream's text, decoded as UTF-8 (a BOM is dropped) a chunk at a time."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    offset = 0
    while True:
        chunk = stream.read(_READ_CHUNK)
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise TerminalManifestError(
                rules.ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT,
                f"{what} is not a UTF-8 JSON Lines file (undecodable byte at offset {offset - pending + exc.start})."
                " A manifest is a text file with one JSON object per line.") from None
        if "\x00" in text:
            raise TerminalManifestError(
                rules.ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT,
                f"{what} is a binary file, not a JSON Lines manifest (one JSON object per line).")
        if text:
            yield text
        if not chunk:
            return
        offset += len(chunk)


def _physical_lines(chunks: Iterable[str], max_chars: int) -> Iterator[str]:
    """The lines of `chunks` without their line ends; a line longer than `max_chars` is cut to
    `max_chars + 1` characters (enough to tell it is too long) so no line is ever held whole."""
    pieces: list[str] = []
    held = 0
    for text in chunks:
        start = 0
        while True:
            end = text.find("\n", start)
            piece = text[start:] if end < 0 else text[start:end]
            if held <= max_chars:
                piece = piece[:max_chars + 1 - held]
                pieces.append(piece)
                held += len(piece)
            if end < 0:
                break
            line = "".join(pieces)
            yield line[:-1] if line.endswith("\r") else line
            pieces, held, start = [], 0, end + 1
    line = "".join(pieces)
    yield line[:-1] if line.endswith("\r") else line


def _spool_manifest(objects: ObjectStore, ref: ManifestRef, role: Role, position: int, limits: Limits,
                    spool: LineSpool) -> _SpooledFile:
    """Read one manifest file as a stream into `spool`; raise `TerminalManifestError` for AWS's terminal
    file errors."""
    what = _describe(ref, role, position)
    spooled = _SpooledFile(ref.uri)
    count = 0
    try:
        if is_internal_bucket(ref.bucket) and not ref.internal:  # openrek's own bucket: not a place to train from
            raise NoSuchBucket(f"The bucket {ref.bucket!r} does not exist.", bucket=ref.bucket)
        info = objects.head_object(ref.bucket, ref.name)
        if info.size > limits.max_manifest_bytes:
            raise TerminalManifestError(
                rules.ERROR_MANIFEST_SIZE_TOO_LARGE,
                f"{what} is {info.size / rules.MB:.0f} MB; a manifest can be at most "
                f"{limits.max_manifest_bytes / rules.MB:.0f} MB. Split it or remove lines.")
        _, stream = objects.open_object(ref.bucket, ref.name)
        with stream:
            for number, text in enumerate(_physical_lines(_decoded(stream, what), limits.max_line_chars)):
                if not text.strip():
                    continue
                count += 1
                if count <= limits.max_manifest_lines:  # past it, only count (for the message)
                    spooled.add(number, spool.append(text))
    except ObjectStoreError as exc:
        raise _unreadable(exc, ref, what) from None
    if not count:
        raise TerminalManifestError(
            rules.ERROR_EMPTY_MANIFEST,
            f"{what} is empty: it has no JSON lines. Add one line per image.")
    if count > limits.max_manifest_lines:
        raise TerminalManifestError(
            rules.ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM,
            f"{what} has {count} JSON lines; a manifest can have at most {limits.max_manifest_lines}. "
            "Remove lines or split the dataset.")
    return spooled


# ---------------------------------------------------------------------------------------- use case

def _relevant(attrs: Iterable[LabelAttribute], use_case: UseCase, moderation: bool) -> list[LabelAttribute]:
    if moderation:
        return [a for a in attrs if a.kind == "moderation"]
    if use_case == "OBJECT_LOCALIZATION":
        return [a for a in attrs if a.kind == "detection"]
    if use_case == "IMAGE_LEVEL_LABELS":
        return [a for a in attrs if a.kind in _IMAGE_LEVEL_KINDS]
    return []


def determine_use_case(lines: Sequence[ParsedLine], feature: Feature | None = None) -> tuple[UseCase, bool]:
    """(use case, content moderation?) from the usable attributes of the lines.

    Any usable detection attribute makes the dataset OBJECT_LOCALIZATION; otherwise image-level labels
    make it IMAGE_LEVEL_LABELS; Content Moderation adapter lines are IMAGE_LEVEL_LABELS with the flag.
    """
    kinds = {a.kind for line in lines if not line.line_errors for a in line.attributes if a.ok}
    moderation = feature == "CONTENT_MODERATION" or (
        feature is None and "moderation" in kinds and not (kinds - {"moderation"}))
    if moderation:
        return ("IMAGE_LEVEL_LABELS" if "moderation" in kinds else "NOT_DETERMINED"), True
    if "detection" in kinds:
        return "OBJECT_LOCALIZATION", False
    if kinds & set(_IMAGE_LEVEL_KINDS):
        return "IMAGE_LEVEL_LABELS", False
    return "NOT_DETERMINED", False


# ------------------------------------------------------------------------------------- line resolution

def _needs_image(line: ParsedLine, use_case: UseCase, moderation: bool) -> bool:
    return (line.source is not None and not line.line_errors and not line.unannotated
            and any(a.ok for a in _relevant(line.attributes, use_case, moderation)))


def _orient_box(ann: Annotation, orientation: int, raw_w: int, raw_h: int) -> None:
    """Map a box drawn on the stored (raw) frame onto the EXIF-oriented frame."""
    assert ann.left is not None and ann.top is not None and ann.width is not None and ann.height is not None
    x0, y0, x1, y1 = ann.left, ann.top, ann.left + ann.width, ann.top + ann.height
    W, H = raw_w, raw_h

    def pt(x: float, y: float) -> tuple[float, float]:
        return {
            2: (W - x, y), 3: (W - x, H - y), 4: (x, H - y), 5: (y, x),
            6: (H - y, x), 7: (H - y, W - x), 8: (y, W - x),
        }.get(orientation, (x, y))

    (ax, ay), (bx, by) = pt(x0, y0), pt(x1, y1)
    ann.left, ann.top = min(ax, bx), min(ay, by)
    ann.width, ann.height = abs(bx - ax), abs(by - ay)


def _unused_kind_message(line: ParsedLine, use_case: UseCase, moderation: bool) -> str:
    kinds = sorted({a.kind for a in line.attributes if a.kind})
    if moderation:
        wanted = f"Content Moderation adapter labels (\"{rules.MODERATION_ATTRIBUTE}\")"
    elif use_case == "OBJECT_LOCALIZATION":
        wanted = f"bounding boxes (\"{rules.TYPE_DETECTION}\")"
    else:
        wanted = "image-level labels (\"groundtruth/image-classification\")"
    return (f"the line's label attributes ({', '.join(kinds)}) do not fit this dataset, which uses {wanted}. "
            "Label the image the same way as the rest of the dataset.")


def _resolve(line: ParsedLine, image: ImageInfo | ManifestError | None, use_case: UseCase,
             moderation: bool, limits: Limits) -> tuple[LineStatus, ManifestRecord | None, ImageInfo | None]:
    """The line's status, record (when valid) and image; errors and warnings are recorded on `line`."""
    at = line.where
    if line.line_errors:
        return "invalid", None, None
    if line.unannotated:
        line.line_errors.append(line_error(
            rules.WARNING_UNANNOTATED_RECORD, at,
            "the record is unannotated: it has a source-ref but no labels, so it is not used. Label the "
            "image or remove the line."))
        return "ignored", None, None
    relevant = _relevant(line.attributes, use_case, moderation)
    if not relevant:
        other_ok = [a for a in line.attributes if a.ok]
        if other_ok and use_case == "OBJECT_LOCALIZATION" and all(a.kind in _IMAGE_LEVEL_KINDS for a in other_ok):
            line.line_errors.append(line_error(
                rules.WARNING_NO_ANNOTATIONS, at,
                "no bounding boxes were provided (the line has only image-level labels), so the image is not "
                "used to train this object-localization model. Add bounding boxes if it shows an object."))
            return "ignored", None, None
        if other_ok:
            line.line_errors.append(line_error(rules.ERROR_UNSUPPORTED_USE_CASE_TYPE, at,
                                               _unused_kind_message(line, use_case, moderation)))
        else:
            line.line_errors.append(line_error(
                rules.ERROR_NO_VALID_LABEL_ATTRIBUTES, at,
                "no valid label attributes found: every label attribute on the line has errors (see the "
                "errors on each attribute and its -metadata)."))
        return "invalid", None, None
    usable = [a for a in relevant if a.ok]
    if not usable:
        line.line_errors.append(line_error(
            rules.ERROR_NO_VALID_LABEL_ATTRIBUTES, at,
            "no valid label attributes found: every label attribute on the line has errors (see the errors on "
            "each attribute and its -metadata)."))
        return "invalid", None, None
    if isinstance(image, ManifestError):
        line.line_errors.append(image)
        return "invalid", None, None
    assert line.source is not None and image is not None and line.obj is not None

    def record(labels: list[str], boxes: list[Box], used: list[LabelAttribute]) -> ManifestRecord:
        assert line.source is not None and image is not None and line.obj is not None
        return ManifestRecord(line_index=line.line_index, source_ref=line.obj["source-ref"],
                              bucket=line.source.bucket, key=line.source.key, version=None,
                              labels=labels, boxes=boxes, width=image.width, height=image.height,
                              manifest=line.manifest_uri, attributes=[a.name for a in used])

    if use_case != "OBJECT_LOCALIZATION":
        labels: list[str] = []
        for attr in usable:
            if attr.kind == "multilabel" and not attr.labels:
                attr.warnings.append(line_error(
                    rules.WARNING_NO_ATTRIBUTE_ANNOTATIONS, at,
                    f"no attribute annotations provided: \"{attr.name}\" lists no classes."))
            labels += [lb for lb in attr.labels if lb not in labels]
        if not labels and not moderation:
            line.line_errors.append(line_error(
                rules.WARNING_NO_ANNOTATIONS, at,
                "no annotations provided: the line's label attributes give the image no label, so it is not "
                "used. Add a label or remove the line."))
            return "ignored", None, image
        if len(labels) > limits.max_labels_per_image:
            line.line_errors.append(line_error(
                rules.ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT, at,
                f"the image has {len(labels)} labels; an image can have at most {limits.max_labels_per_image}."))
            return "invalid", None, image
        return "valid", record(sorted(labels), [], usable), image

    # Object localization: check each box against the (EXIF-oriented) frame.
    for attr in usable:
        if attr.image_size is not None and attr.image_size != (image.width, image.height):
            raw = (image.raw_width, image.raw_height)
            if attr.image_size == raw:
                for ann in attr.annotations:
                    if ann.left is not None and ann.top is not None and ann.width is not None \
                            and ann.height is not None:
                        _orient_box(ann, image.orientation, *raw)
            else:
                w, h = attr.image_size
                line.line_errors.append(line_error(
                    rules.ERROR_INVALID_IMAGE_DIMENSION, at,
                    f"\"image_size\" of \"{attr.name}\" says {w}x{h} pixels but the image is "
                    f"{image.width}x{image.height}. Correct image_size (and the boxes, if they were drawn on "
                    "an image of another size)."))
                return "invalid", None, image
        for ann in attr.annotations:
            if not ann.errors:
                check_box_geometry(ann, image.width, image.height, at, attr.name)
    total = sum(len(a.annotations) for a in usable)
    if total > limits.max_boxes_per_image:
        line.line_errors.append(line_error(
            rules.ERROR_TOO_MANY_BOUNDING_BOXES, at,
            f"there are {total} bounding boxes, more than the allowed maximum of {limits.max_boxes_per_image} "
            "per image. Remove boxes or split the image."))
        return "invalid", None, image
    if total == 0:
        line.line_errors.append(line_error(
            rules.WARNING_NO_ANNOTATIONS, at,
            "no annotations provided: the image has no bounding boxes, so it is not used for training. Add "
            "boxes if it shows an object, or remove the line."))
        return "ignored", None, image
    boxes: list[Box] = []
    for attr in usable:
        if not attr.annotations:
            attr.warnings.append(line_error(
                rules.WARNING_NO_ATTRIBUTE_ANNOTATIONS, at,
                f"no attribute annotations provided: \"{attr.name}\" has no bounding boxes."))
        for ann in attr.annotations:
            if ann.ok and ann.label is not None:
                assert ann.left is not None and ann.top is not None and ann.width is not None \
                    and ann.height is not None
                boxes.append(Box(ann.label, ann.left, ann.top, ann.width, ann.height, source=(attr.name, ann.index)))
    if not boxes:
        line.line_errors.append(line_error(
            rules.ERROR_NO_VALID_ANNOTATIONS, at,
            f"no valid annotations found: all {total} bounding boxes have errors (see each annotation's "
            "errors). Fix the boxes."))
        return "invalid", None, image
    labels = sorted({b.label for b in boxes})
    boxed = {b.source[0] for b in boxes if b.source is not None}
    return "valid", record(labels, boxes, [a for a in usable if a.name in boxed]), image


# ------------------------------------------------------------------------------------------ entry points

def validate_manifests(objects: ObjectStore, refs: Sequence[Any], *, role: Role,
                       use_case: UseCase | None = None, content_moderation: bool | None = None,
                       feature: Feature | None = None, limits: Limits = DEFAULT_LIMITS) -> ValidatedManifest:
    """Validate one role's manifest files (in order, as one dataset), read as streams.

    `use_case`/`content_moderation` force the interpretation (testing follows training); otherwise they are
    decided from the lines (see `determine_use_case`). Raises `TerminalManifestError` for file errors.
    """
    manifest_refs = [as_ref(r) for r in refs]
    spool = LineSpool()
    files = [_spool_manifest(objects, ref, role, position, limits, spool)
             for position, ref in enumerate(manifest_refs)]
    return _validate(objects, files, spool, role=role, refs=manifest_refs, use_case=use_case,
                     content_moderation=content_moderation, feature=feature, limits=limits)


def validate_lines(objects: ObjectStore, texts: Sequence[tuple[str, Sequence[str]]], *, role: Role,
                   refs: Sequence[ManifestRef] = (), use_case: UseCase | None = None,
                   content_moderation: bool | None = None, feature: Feature | None = None,
                   limits: Limits = DEFAULT_LIMITS) -> ValidatedManifest:
    """Validate JSON Lines already read: `texts` is [(where they came from, physical lines)].

    The same rules as `validate_manifests`; datasets use it for UpdateDatasetEntries' inline JSON Lines.
    """
    spool = LineSpool()
    files = []
    for uri, lines in texts:
        spooled = _SpooledFile(uri)
        for number, text in enumerate(lines):
            if text.strip():
                spooled.add(number, spool.append(text))
        files.append(spooled)
    return _validate(objects, files, spool, role=role, refs=list(refs), use_case=use_case,
                     content_moderation=content_moderation, feature=feature, limits=limits)


_BATCH = 256  # lines parsed, their images checked and resolved together


def _parse(text: str, number: int, uri: str, limits: Limits) -> ParsedLine:
    if len(text) > limits.max_line_chars:
        line = ParsedLine(line_index=number, manifest_uri=uri, text=text[:200] + "…")
        line.line_errors.append(line_error(
            rules.ERROR_INVALID_JSON_LINE, line.where,
            f"the JSON Line is longer than {limits.max_line_chars:,} characters. Each line must be one JSON "
            "object labelling one image; fix or remove it."))
        return line
    return parse_line(text, number, uri, limits)


def _validate(objects: ObjectStore, files: Sequence[_SpooledFile], spool: LineSpool, *, role: Role,
              refs: list[ManifestRef], use_case: UseCase | None, content_moderation: bool | None,
              feature: Feature | None, limits: Limits) -> ValidatedManifest:
    """Parse the spooled lines (twice when the use case must be decided first: a line is never kept
    parsed), check their images a batch at a time, and keep each line small (`_compacted`)."""
    def parsed() -> Iterator[ParsedLine]:
        for spooled in files:
            for number, at in zip(spooled.numbers, spooled.at, strict=True):
                yield _parse(spool.text(at), number, spooled.uri, limits)

    if use_case is None or content_moderation is None:
        decided, moderation = determine_use_case(parsed(), feature)
        use_case = decided if use_case is None else use_case
        content_moderation = moderation if content_moderation is None else content_moderation

    known: dict[tuple[str, str], ImageInfo] = {}  # an image named on many lines is read once

    def check(line: ParsedLine) -> ImageInfo | ManifestError:
        assert line.source is not None
        place = (line.source.bucket, line.source.key)
        if place in known:
            return known[place]
        found = check_image(objects, line.source.bucket, line.source.key, None, line.where, limits)
        if isinstance(found, ImageInfo):
            known[place] = found
        return found

    lines: list[ValidatedLine] = []
    with ThreadPoolExecutor(max_workers=max(1, limits.image_read_workers)) as pool:
        batch: list[ParsedLine] = []
        for line in parsed():
            batch.append(line)
            if len(batch) == _BATCH:
                lines += _resolved(batch, check, pool, use_case, content_moderation, limits, spool)
                batch = []
        lines += _resolved(batch, check, pool, use_case, content_moderation, limits, spool)
    manifest = ValidatedManifest(role=role, refs=refs, use_case=use_case,
                                 content_moderation=content_moderation, lines=lines)
    manifest.errors.extend(_role_errors(manifest, limits))
    return manifest


def _resolved(batch: list[ParsedLine], check: Callable[[ParsedLine], ImageInfo | ManifestError],
              pool: ThreadPoolExecutor, use_case: UseCase, moderation: bool, limits: Limits,
              spool: LineSpool) -> list[ValidatedLine]:
    todo = [line for line in batch if _needs_image(line, use_case, moderation)]
    images = dict(zip(map(id, todo), pool.map(check, todo), strict=True))
    out = []
    for line in batch:
        status, record, image = _resolve(line, images.get(id(line)), use_case, moderation, limits)
        out.append(_compacted(line, status, record, image, use_case, moderation, spool))
    return out


def validate_manifest(objects: ObjectStore, ref_bucket: str, ref_key: str, version: str | None = None, *,
                      role: Role, use_case: UseCase | None = None, content_moderation: bool | None = None,
                      feature: Feature | None = None, limits: Limits = DEFAULT_LIMITS) -> ValidatedManifest:
    """Validate a single manifest file; see `validate_manifests`."""
    return validate_manifests(objects, [ManifestRef(ref_bucket, ref_key, version)], role=role,
                              use_case=use_case, content_moderation=content_moderation, feature=feature,
                              limits=limits)


def _files(manifest: ValidatedManifest) -> str:
    return ", ".join(r.uri for r in manifest.refs)


def _role_errors(manifest: ValidatedManifest, limits: Limits) -> list[ManifestError]:
    """The terminal content errors one role's lines can show on their own."""
    errors: list[ManifestError] = []
    counted = manifest.total_json_lines - manifest.ignored_json_lines
    invalid = manifest.invalid_json_lines
    if counted and invalid / counted > limits.max_invalid_fraction:
        bad = [line for line in manifest.lines if line.status == "invalid"]
        by_file: dict[str, list[str]] = {}
        for line in bad:
            by_file.setdefault(line.manifest_uri, []).append(str(line.line_index + 1))
        listed = "; ".join(f"line{'s' if len(nums) > 1 else ''} {', '.join(nums[:15])}"
                           f"{' …' if len(nums) > 15 else ''} of {uri}" for uri, nums in by_file.items())
        first = bad[0].first_error()
        errors.append(ManifestError(
            rules.ERROR_TOO_MANY_INVALID_ROWS_IN_MANIFEST,
            f"The {manifest.role} manifest {_files(manifest)} contains too many invalid rows: {invalid} of "
            f"{counted} JSON lines ({invalid / counted:.0%}) are invalid; at most "
            f"{limits.max_invalid_fraction:.0%} may be. Invalid: {listed}. First problem: "
            f"{first.message if first else 'see the validation manifest'} Fix or remove these lines (each "
            f"line's errors are in the {manifest.role} validation manifest)."))
    buckets = manifest.image_buckets
    if len(buckets) > 1:
        errors.append(ManifestError(
            rules.ERROR_IMAGES_IN_MULTIPLE_S3_BUCKETS,
            f"The {manifest.role} manifest {_files(manifest)} references images in {len(buckets)} S3 buckets "
            f"({', '.join(buckets[:5])}); all images must be in one bucket. Copy them into one bucket and update "
            "the source-ref values."))
    denied = [line for line in manifest.lines
              if any(e.code in _LINE_TERMINAL_CODES for e in line.line_errors)]
    if denied:  # first: unreadable images are the cause, too many invalid rows only its consequence
        errors.insert(0, ManifestError(
            rules.ERROR_INVALID_PERMISSIONS_IMAGES_S3_BUCKET,
            f"The {manifest.role} manifest {_files(manifest)} references images that could not be read: access "
            f"was denied (first at {where(denied[0].manifest_uri, denied[0].line_index)}). Grant read access to the images' bucket."))
    return errors
