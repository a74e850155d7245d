"""Whole-manifest validation against a real DirectoryObjectStore: per-line codes, file and content errors."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from openrek.manifests import (
    Limits,
    ManifestContentError,
    ManifestRef,
    TerminalManifestError,
    load_datasets,
    prepare_datasets,
    rules,
    validate_manifest,
    validate_manifests,
)

from .conftest import IMAGES, MANIFESTS, OUTPUT, Factory, cls_line, det_line, image_bytes


def line_codes(manifest, i: int) -> list[str]:
    return manifest.lines[i].all_codes()


def test_valid_classification_manifest(mk: Factory, store) -> None:
    ref = mk.classification({"cat": 3, "dog": 2})
    m = validate_manifest(store, ref.bucket, ref.name, role="training")
    assert m.use_case == "IMAGE_LEVEL_LABELS" and not m.content_moderation
    assert (m.total_json_lines, m.valid_json_lines, m.invalid_json_lines, m.ignored_json_lines) == (5, 5, 0, 0)
    assert m.labels == ["cat", "dog"] and m.errors == []
    r = m.records[0]
    assert (r.bucket, r.labels, r.width, r.height, r.line_index) == (IMAGES, ["cat"], 128, 96, 0)
    assert r.source_ref == f"s3://{IMAGES}/{r.key}" and r.manifest == f"s3://{MANIFESTS}/train.manifest"


def test_thirty_percent_broken_lines_is_terminal(mk: Factory, store) -> None:
    lines = [cls_line(mk.image(), "cat" if i % 2 else "dog") for i in range(7)]
    lines += ['{"source-ref": broken', "not json at all", '{"source-ref": "s3://images-bucket/x.jpg"']
    ref = mk.manifest(lines)
    with pytest.raises(ManifestContentError) as err:
        load_datasets(store, [ref], [], autocreate=True)
    assert err.value.code == rules.ERROR_TOO_MANY_INVALID_ROWS_IN_MANIFEST
    assert "3 of 10" in err.value.message and "train.manifest" in err.value.message
    training = err.value.prepared.training
    assert training.error_json_line_indices == [8, 9, 10]
    assert {line_codes(training, i)[0] for i in (7, 8, 9)} == {rules.ERROR_INVALID_JSON_LINE}


def test_twenty_percent_invalid_is_still_accepted(mk: Factory, store) -> None:
    lines = [cls_line(mk.image(), "cat" if i % 2 else "dog") for i in range(8)] + ["{bad", "{bad"]
    prepared = load_datasets(store, [mk.manifest(lines)], [], autocreate=True)
    assert prepared.training.invalid_json_lines + prepared.testing.invalid_json_lines == 2


def test_ignored_lines_do_not_count_towards_the_limit(mk: Factory, store) -> None:
    lines = [cls_line(mk.image(), "cat" if i % 2 else "dog") for i in range(8)] + ["{bad", "{bad"]
    lines += [{"source-ref": f"s3://{IMAGES}/unlabelled-{i}.jpg"} for i in range(10)]
    prepared = load_datasets(store, [mk.manifest(lines)], [], autocreate=True)
    stats = prepared.training.statistics_json()
    assert stats["ignored_json_lines"] == 10 and stats["errors"] == []
    assert line_codes(prepared.training, 15) == [rules.WARNING_UNANNOTATED_RECORD]


@pytest.mark.parametrize(("name", "data", "code"), [
    ("corrupt", b"\xff\xd8\xff\xe0 this is not really a jpeg", rules.ERROR_INVALID_IMAGE),
    ("truncated", image_bytes((300, 200), seed=1)[:2000], rules.ERROR_INVALID_IMAGE),
    ("gif", image_bytes((128, 96), fmt="GIF", mode="P"), rules.ERROR_INVALID_IMAGE),
    ("bmp", image_bytes((128, 96), fmt="BMP"), rules.ERROR_INVALID_IMAGE),
    ("small", image_bytes((40, 40)), rules.ERROR_INVALID_IMAGE_DIMENSION),
    ("large", image_bytes((4100, 64)), rules.ERROR_INVALID_IMAGE_DIMENSION),
    ("aspect", image_bytes((1344, 64)), rules.ERROR_INVALID_IMAGE_DIMENSION),
])
def test_bad_images_are_per_line_errors(mk: Factory, store, name: str, data: bytes, code: str) -> None:
    lines = [cls_line(mk.image(), "cat"), cls_line(mk.image(), "dog"), cls_line(mk.image(f"{name}.img", data), "cat")]
    m = validate_manifest(store, MANIFESTS, mk.manifest(lines).name, role="training")
    assert line_codes(m, 2) == [code]
    assert (m.valid_json_lines, m.invalid_json_lines) == (2, 1)
    message = m.lines[2].line_errors[0].message
    assert message.startswith(f"Line 3 of s3://{MANIFESTS}/train.manifest:")
    if name == "gif":
        assert "GIF" in message and "PNG" in message
    if name == "small":
        assert "40x40" in message and "64" in message


def test_missing_image_and_oversized_image(mk: Factory, store) -> None:
    big = mk.image("big.png", image_bytes((200, 200), fmt="PNG", seed=5))
    lines = [cls_line("does/not/exist.jpg", "cat"), cls_line(big, "dog"), cls_line(mk.image(), "dog")]
    m = validate_manifests(store, [mk.manifest(lines)], role="training", limits=Limits(max_image_bytes=50_000))
    assert line_codes(m, 0) == [rules.ERROR_INVALID_IMAGE] and "does/not/exist.jpg" in m.lines[0].line_errors[0].message
    assert line_codes(m, 1) == [rules.ERROR_INVALID_IMAGE] and "MB" in m.lines[1].line_errors[0].message


def test_detection_boxes(mk: Factory, store) -> None:
    size = (128, 96)
    good = mk.image(size=size)
    lines = [
        det_line(good, [("raccoon", 10, 10, 50, 40)], size),
        det_line(mk.image(size=size), [("raccoon", 100, 10, 50, 40), ("raccoon", 5, 5, 20, 20)], size),  # one off frame
        det_line(mk.image(size=size), [("raccoon", -3, 10, 50, 40)], size),  # only box off frame
        det_line(mk.image(size=size), [("raccoon", 10, 10, 1, 30)], size),  # too small
        det_line(mk.image(size=size), [("raccoon", 1, 1, 2, 2)] * 51, size),  # too many
        det_line(mk.image(size=size), [], size),  # no objects
        det_line(mk.image(size=size), [("raccoon", 10, 10, 50, 40)], (640, 480)),  # wrong image_size
        det_line(mk.image(size=size), [("raccoon", 10, 10, 50, 40)], None),  # no image_size: actual frame
    ]
    m = validate_manifest(store, MANIFESTS, mk.manifest(lines).name, role="training")
    assert m.use_case == "OBJECT_LOCALIZATION"
    assert [line.status for line in m.lines] == [
        "valid", "valid", "invalid", "invalid", "invalid", "ignored", "invalid", "valid"]
    assert m.records[0].boxes[0].label == "raccoon" and m.records[0].labels == ["raccoon"]
    assert line_codes(m, 1) == [rules.ERROR_INVALID_BOUNDING_BOX] and len(m.records[1].boxes) == 1
    # Each box says which attribute and annotation it came from (the off-frame annotation 0 is gone).
    assert m.records[1].attributes == ["bounding-box"] and m.records[1].boxes[0].source == ("bounding-box", 1)
    assert sorted(line_codes(m, 2)) == [rules.ERROR_INVALID_BOUNDING_BOX, rules.ERROR_NO_VALID_ANNOTATIONS]
    assert sorted(line_codes(m, 3)) == [rules.ERROR_BOUNDING_BOX_TOO_SMALL, rules.ERROR_NO_VALID_ANNOTATIONS]
    assert line_codes(m, 4) == [rules.ERROR_TOO_MANY_BOUNDING_BOXES]
    assert line_codes(m, 5) == [rules.WARNING_NO_ANNOTATIONS]
    assert line_codes(m, 6) == [rules.ERROR_INVALID_IMAGE_DIMENSION]
    off = m.lines[1].validation_json()["bounding-box"]["annotations"][0]["errors"][0]
    assert off["code"] == rules.ERROR_INVALID_BOUNDING_BOX and "128x96" in off["message"]


def test_detection_allows_a_single_label(mk: Factory, store) -> None:
    lines = [det_line(mk.image(), [("raccoon", 10, 10, 50, 40)], (128, 96)) for _ in range(5)]
    prepared = load_datasets(store, [mk.manifest(lines)], [], autocreate=True)
    assert prepared.labels == ["raccoon"] and len(prepared.train) == 4 and len(prepared.test) == 1


def test_missing_confidence_invalidates_the_box(mk: Factory, store) -> None:
    line = det_line(mk.image(), [("raccoon", 10, 10, 50, 40)], (128, 96))
    del line["bounding-box-metadata"]["objects"]
    m = validate_manifest(store, MANIFESTS, mk.manifest([line]).name, role="training")
    assert sorted(line_codes(m, 0)) == [rules.ERROR_MISSING_BOUNDING_BOX_CONFIDENCE, rules.ERROR_NO_VALID_ANNOTATIONS]


def test_images_in_several_buckets(mk: Factory, store) -> None:
    lines = [cls_line(mk.image(), "cat"), cls_line(mk.image(bucket="other-images"), "dog", bucket="other-images")]
    m = validate_manifest(store, MANIFESTS, mk.manifest(lines).name, role="training")
    assert [e.code for e in m.errors] == [rules.ERROR_IMAGES_IN_MULTIPLE_S3_BUCKETS]


def test_file_errors(mk: Factory, store) -> None:
    def code_of(ref: ManifestRef, **kw) -> str:
        with pytest.raises(TerminalManifestError) as err:
            validate_manifests(store, [ref], role="training", **kw)
        assert ref.uri in err.value.message
        return err.value.code

    assert code_of(ManifestRef(MANIFESTS, "nope.manifest")) == rules.ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT
    assert code_of(ManifestRef("no-such-bucket", "x.manifest")) == rules.ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT
    assert code_of(mk.manifest(["", "  "], "empty.manifest")) == rules.ERROR_EMPTY_MANIFEST
    store.put_object(MANIFESTS, "image.manifest", image_bytes())
    assert code_of(ManifestRef(MANIFESTS, "image.manifest")) == rules.ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT
    ref = mk.classification({"cat": 2, "dog": 2})
    assert code_of(ref, limits=Limits(max_manifest_bytes=100)) == rules.ERROR_MANIFEST_SIZE_TOO_LARGE
    assert code_of(ref, limits=Limits(max_manifest_lines=3)) == rules.ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM


def test_versioned_reference_reads_the_object(mk: Factory, store) -> None:
    ref = mk.classification({"cat": 2, "dog": 2})
    m = validate_manifest(store, ref.bucket, ref.name, "v1", role="training")  # the directory store has no versions
    assert m.valid_json_lines == 4


def test_output_bucket_missing_writes_nothing(mk: Factory, store) -> None:
    ref = mk.classification({"cat": 5, "dog": 5})
    with pytest.raises(TerminalManifestError) as err:
        prepare_datasets(store, training_refs=[ref], testing_refs=[], autocreate=True, output_bucket="missing-out",
                         output_prefix="out", project_name="p", version_name="1")
    assert err.value.code == rules.ERROR_CANNOT_WRITE_OUTPUT_S3_BUCKET and "missing-out" in err.value.message


def test_terminal_file_error_writes_no_output(mk: Factory, store) -> None:
    with pytest.raises(TerminalManifestError) as err:
        prepare_datasets(store, training_refs=[ManifestRef(MANIFESTS, "absent")], testing_refs=[], autocreate=True,
                         output_bucket=OUTPUT, output_prefix="out", project_name="p", version_name="1")
    assert err.value.code == rules.ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT
    assert list(store.list_objects(OUTPUT)) == []


def test_too_few_labels(mk: Factory, store) -> None:
    with pytest.raises(ManifestContentError) as err:
        load_datasets(store, [mk.classification({"cat": 6})], [], autocreate=True)
    assert err.value.code == rules.ERROR_MANIFEST_TOO_FEW_LABELS and "'cat'" in err.value.message


def test_too_few_usable_labels(mk: Factory, store) -> None:
    lines = [cls_line(mk.image(), "cat") for _ in range(9)] + [cls_line("missing.jpg", "dog")]
    with pytest.raises(ManifestContentError) as err:
        load_datasets(store, [mk.manifest(lines)], [], autocreate=True)
    assert err.value.code == rules.ERROR_MANIFEST_TOO_FEW_USABLE_LABELS


def test_too_many_labels(mk: Factory, store) -> None:
    ref = mk.classification({f"label-{i}": 1 for i in range(6)})
    with pytest.raises(ManifestContentError) as err:
        load_datasets(store, [ref], [], autocreate=True, limits=Limits(max_labels=5))
    assert err.value.code == rules.ERROR_MANIFEST_TOO_MANY_LABELS


def test_label_overlap_between_training_and_testing(mk: Factory, store) -> None:
    train = mk.classification({"cat": 3, "dog": 3})
    test = mk.classification({"cat": 1, "bird": 1, "fish": 1}, key="test.manifest")
    with pytest.raises(ManifestContentError) as err:
        load_datasets(store, [train], [test], autocreate=False)
    assert err.value.code == rules.ERROR_INSUFFICIENT_LABEL_OVERLAP
    assert "'bird'" in err.value.message and err.value.prepared.errors[0].code == err.value.code
    ok = mk.classification({"cat": 1, "dog": 1, "bird": 1}, key="test2.manifest")
    prepared = load_datasets(store, [train], [ok], autocreate=False)
    assert len(prepared.test) == 3 and prepared.labels == ["cat", "dog"]


def test_testing_lines_must_match_the_training_use_case(mk: Factory, store) -> None:
    train = mk.classification({"cat": 3, "dog": 3})
    test = mk.manifest([cls_line(mk.image(), "cat"), cls_line(mk.image(), "dog"),
                        det_line(mk.image(), [("cat", 1, 1, 20, 20)], (128, 96))], key="test.manifest")
    prepared = load_datasets(store, [train], [test], autocreate=False, limits=Limits(max_invalid_fraction=0.5))
    assert line_codes(prepared.testing, 2) == [rules.ERROR_UNSUPPORTED_USE_CASE_TYPE]


def test_image_level_lines_in_a_detection_dataset_are_ignored(mk: Factory, store) -> None:
    lines = [det_line(mk.image(), [("raccoon", 10, 10, 50, 40)], (128, 96)) for _ in range(4)]
    lines.append(cls_line(mk.image(), "raccoon"))
    m = validate_manifest(store, MANIFESTS, mk.manifest(lines).name, role="training")
    assert m.lines[4].status == "ignored" and line_codes(m, 4) == [rules.WARNING_NO_ANNOTATIONS]


def test_multi_label_lines(mk: Factory, store) -> None:
    lines = []
    for i in range(6):
        line = cls_line(mk.image(), "cat" if i % 2 else "dog")
        extra = cls_line("", "indoor" if i < 3 else "outdoor", attr="place")
        line.update({k: v for k, v in extra.items() if k != "source-ref"})
        lines.append(line)
    lines.append({"source-ref": f"s3://{IMAGES}/{mk.image()}", "tags": [0, 1],
                  "tags-metadata": {"class-map": {"0": "cat", "1": "indoor"},
                                    "type": "groundtruth/image-classification-multilabel"}})
    m = validate_manifest(store, MANIFESTS, mk.manifest(lines).name, role="training")
    assert [r.labels for r in m.records] == [["dog", "indoor"], ["cat", "indoor"], ["dog", "indoor"],
                                             ["cat", "outdoor"], ["dog", "outdoor"], ["cat", "outdoor"],
                                             ["cat", "indoor"]]


def test_content_moderation_dataset(mk: Factory, store) -> None:
    lines = []
    for i in range(10):
        labels = [{"Name": "Rude Gesture"}] if i % 2 else []
        lines.append({"source-ref": f"s3://{IMAGES}/{mk.image()}",
                      "content-moderation-groundtruth": {"ModerationLabels": labels}})
    prepared = load_datasets(store, [mk.manifest(lines)], [], autocreate=True)
    assert prepared.content_moderation and prepared.use_case == "IMAGE_LEVEL_LABELS"
    assert prepared.labels == ["Rude Gesture"]
    assert sorted(len(r.labels) for r in prepared.test) == [0, 1]
    with pytest.raises(ManifestContentError) as err:
        load_datasets(store, [mk.manifest(lines)], [], autocreate=True, feature="CUSTOM_LABELS")
    assert err.value.code == rules.ERROR_TOO_MANY_INVALID_ROWS_IN_MANIFEST


def test_palette_png_lines_validate(mk: Factory, store) -> None:
    img = Image.new("P", (100, 100), 0)
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    buf = io.BytesIO()
    img.save(buf, "PNG", transparency=0)
    key = mk.image("logo.png", buf.getvalue())
    m = validate_manifest(store, MANIFESTS, mk.manifest([cls_line(key, "logo")]).name, role="training")
    assert m.lines[0].status == "valid" and m.lines[0].image is not None and m.lines[0].image.format == "PNG"


def test_one_broken_pair_leaves_the_line_valid(mk: Factory, store) -> None:
    line = cls_line(mk.image(), "cat")
    line.update({"color": "black", "color-metadata": {"class-name": "black", "type": "groundtruth/image-classification"}})
    m = validate_manifest(store, MANIFESTS, mk.manifest([line, cls_line(mk.image(), "dog")]).name, role="training")
    assert m.lines[0].status == "valid" and m.records[0].labels == ["cat"]
    assert m.records[0].attributes == ["label"]  # the broken pair gave nothing
    out = m.lines[0].validation_json()
    assert out["errors"] == [] and out["color-metadata"]["errors"][0]["code"] == rules.ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT


def test_blank_lines_are_skipped_but_line_numbers_kept(mk: Factory, store) -> None:
    ref = mk.manifest([cls_line(mk.image(), "cat"), "", "   ", "{broken"])
    m = validate_manifest(store, ref.bucket, ref.name, role="training")
    assert m.total_json_lines == 2 and m.error_json_line_indices == [2]
    assert m.lines[1].line_errors[0].message.startswith("Line 4 of ")
