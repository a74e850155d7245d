"""TestingData.AutoCreate: a deterministic 80/20 split, stratified per label."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from openrek.manifests import (
    ManifestContentError,
    ManifestRecord,
    TerminalManifestError,
    autosplit,
    load_datasets,
)
from openrek.manifests.rules import ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_AUTOSPLIT

from .conftest import Factory


def records(label_sets: list[list[str]]) -> list[ManifestRecord]:
    return [ManifestRecord(line_index=i, source_ref=f"s3://bkt/{i:04d}.jpg", bucket="bkt", key=f"{i:04d}.jpg",
                           version=None, labels=labels) for i, labels in enumerate(label_sets)]


def per_label(rs: list[ManifestRecord]) -> Counter[str]:
    return Counter(label for r in rs for label in r.labels)


def test_single_label_split_is_stratified_80_20() -> None:
    rs = records([["a"]] * 50 + [["b"]] * 20 + [["c"]] * 10 + [["d"]] * 3)
    train, test = autosplit(rs)
    assert per_label(test) == {"a": 10, "b": 4, "c": 2, "d": 1}
    assert per_label(train) == {"a": 40, "b": 16, "c": 8, "d": 2}
    assert len(train) + len(test) == len(rs) and not {id(r) for r in train} & {id(r) for r in test}
    assert [r.line_index for r in train] == sorted(r.line_index for r in train)  # input order kept


def test_split_is_deterministic_and_independent_of_line_order() -> None:
    rs = records([["a"]] * 30 + [["b"]] * 30)
    first = {r.source_ref for r in autosplit(rs, seed=3)[1]}
    assert first == {r.source_ref for r in autosplit(rs, seed=3)[1]}
    shuffled = rs[:]
    random.Random(9).shuffle(shuffled)
    assert first == {r.source_ref for r in autosplit(shuffled, seed=3)[1]}
    assert first != {r.source_ref for r in autosplit(rs, seed=4)[1]}


def test_multi_label_split_keeps_every_label_on_both_sides() -> None:
    rng = random.Random(1)
    labels = [f"l{i}" for i in range(8)]
    sets = [sorted(set(rng.sample(labels, rng.randint(1, 3)))) for _ in range(120)]
    sets += [["rare", "l0"], ["rare", "l1"]]
    rs = records(sets)
    train, test = autosplit(rs)
    counts, held = per_label(rs), per_label(test)
    for label, n in counts.items():
        assert 1 <= held[label] < n, label
    assert 0.15 <= len(test) / len(rs) <= 0.3


def test_a_label_with_one_image_cannot_be_split() -> None:
    with pytest.raises(TerminalManifestError) as err:
        autosplit(records([["a"]] * 10 + [["b"]] * 10 + [["lonely"]]))
    assert err.value.code == ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_AUTOSPLIT and "'lonely'" in err.value.message


def test_labels_that_always_share_too_few_images() -> None:
    # x, y, z each on 2 of 3 images, in a cycle: no choice of test images leaves each on both sides.
    with pytest.raises(TerminalManifestError) as err:
        autosplit(records([["a"]] * 10 + [["x", "z"], ["x", "y"], ["y", "z"]]))
    assert err.value.code == ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_AUTOSPLIT


def test_safe_images_form_their_own_stratum() -> None:
    train, test = autosplit(records([[]] * 10 + [["Rude Gesture"]] * 10))
    assert sum(1 for r in test if not r.labels) == 2 and per_label(test) == {"Rude Gesture": 2}


def test_autocreate_through_load_datasets(mk: Factory, store) -> None:
    ref = mk.classification({"cat": 10, "dog": 5})
    prepared = load_datasets(store, [ref], [], autocreate=True, seed=0)
    assert per_label(prepared.test) == {"cat": 2, "dog": 1}
    assert prepared.training.total_json_lines == 12 and prepared.testing.total_json_lines == 3
    again = load_datasets(store, [ref], [], autocreate=True, seed=0)
    assert [r.source_ref for r in again.test] == [r.source_ref for r in prepared.test]
    with pytest.raises(ManifestContentError) as err:
        load_datasets(store, [mk.classification({"cat": 10, "dog": 1}, key="t2.manifest")], [], autocreate=True)
    assert err.value.code == ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_AUTOSPLIT
    assert err.value.prepared.errors[0].code == ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_AUTOSPLIT
