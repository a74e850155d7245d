"""Dataset jobs under AWS's limits, on a real SQLite file and a real directory store, with the limits
shrunk so that the terminal codes can be reached with a handful of images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openrek.lifecycle import DatasetStatus
from openrek.manifests.rules import Limits
from openrek.service.rekognition.dataset_work import DatasetWork
from openrek.store.database import migrate, open_engine
from openrek.store.metadata import MetadataStore
from openrek.store.objects import DirectoryObjectStore
from openrek.store.schema import DatasetRow, ProjectRow
from tests.support.images import classification_line, shape_image

PROJECT = "arn:aws:rekognition:us-east-1:000000000000:project/p/1"
DATASET = PROJECT.rsplit("/", 1)[0] + "/dataset/train/2"


@pytest.fixture
def stores(tmp_path: Path) -> tuple[MetadataStore, DirectoryObjectStore]:
    engine = open_engine(f"sqlite:///{tmp_path / 'openrek.db'}")
    migrate(engine)
    metadata = MetadataStore(engine)
    objects = DirectoryObjectStore(tmp_path / "s3")
    objects.create_bucket("imgs")
    for i in range(6):
        objects.put_object("imgs", f"{i}.jpg", shape_image("red", i, size=64))
    metadata.add_project(ProjectRow(arn=PROJECT, name="p", account="000000000000", region="us-east-1",
                                    created_ms=1, status="CREATED", feature="CUSTOM_LABELS", auto_update=None))
    metadata.add_dataset(DatasetRow(arn=DATASET, project_arn=PROJECT, dataset_type="TRAIN", created_ms=2,
                                    updated_ms=2, status=DatasetStatus.CREATE_IN_PROGRESS, status_message="",
                                    status_message_code=None, use_case=None))
    return metadata, objects


def _manifest(objects: DirectoryObjectStore, labels: list[str]) -> dict:
    lines = [classification_line("imgs", f"{i}.jpg", label) for i, label in enumerate(labels)]
    objects.put_object("imgs", "m.manifest", "\n".join(lines).encode())
    return {"Bucket": "imgs", "Name": "m.manifest"}


def test_too_many_labels_fails_creation(stores) -> None:  # type: ignore[no-untyped-def]
    metadata, objects = stores
    work = DatasetWork(metadata, objects, Limits(max_labels=2))
    work.run({"action": "create_from_manifest", "dataset_arn": DATASET,
              "manifest": _manifest(objects, ["a", "b", "c"])})
    row = metadata.get_dataset(DATASET)
    assert row.status == "CREATE_FAILED" and row.status_message_code == "CLIENT_ERROR"
    assert row.status_message.startswith("ERROR_MANIFEST_TOO_MANY_LABELS")
    assert metadata.count_entries(DATASET) == 0


def test_rows_over_the_maximum_fail_creation_and_updates(stores) -> None:  # type: ignore[no-untyped-def]
    metadata, objects = stores
    work = DatasetWork(metadata, objects, Limits(max_manifest_lines=3))
    work.run({"action": "create_from_manifest", "dataset_arn": DATASET,
              "manifest": _manifest(objects, ["a", "b", "a", "b"])})
    row = metadata.get_dataset(DATASET)
    assert row.status == "CREATE_FAILED" and row.status_message.startswith("ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM")

    metadata.set_dataset_status([DATASET], status=DatasetStatus.CREATE_IN_PROGRESS)
    work.run({"action": "create_from_manifest", "dataset_arn": DATASET, "manifest": _manifest(objects, ["a", "b"])})
    assert metadata.get_dataset(DATASET).status == "CREATE_COMPLETE"
    before = metadata.entry_lines(DATASET)
    metadata.set_dataset_status([DATASET], status=DatasetStatus.UPDATE_IN_PROGRESS)
    lines = [classification_line("imgs", f"{i}.jpg", "a") for i in (3, 4)]
    work.run({"action": "update", "dataset_arn": DATASET, "lines": lines, "feature": "CUSTOM_LABELS"})
    row = metadata.get_dataset(DATASET)
    assert row.status == "UPDATE_FAILED" and row.status_message.startswith("ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM")
    assert metadata.entry_lines(DATASET) == before
    # Updating an existing source-ref does not add a row: it stays within the limit.
    metadata.set_dataset_status([DATASET], status=DatasetStatus.UPDATE_IN_PROGRESS)
    work.run({"action": "update", "dataset_arn": DATASET, "feature": "CUSTOM_LABELS",
              "lines": [classification_line("imgs", "0.jpg", "c"), classification_line("imgs", "5.jpg", "a")]})
    assert metadata.get_dataset(DATASET).status == "UPDATE_COMPLETE"
    lines_now = {ref: json.loads(line) for ref, line, _labels, _errors in metadata.entry_lines(DATASET)}
    assert len(lines_now) == 3 and lines_now["s3://imgs/0.jpg"]["label-metadata"]["class-name"] == "c"


def test_a_job_for_a_deleted_dataset_writes_nothing(stores) -> None:  # type: ignore[no-untyped-def]
    metadata, objects = stores
    manifest = _manifest(objects, ["a", "b"])
    metadata.delete_dataset(DATASET)
    DatasetWork(metadata, objects).run({"action": "create_from_manifest", "dataset_arn": DATASET,
                                        "manifest": manifest})
    assert metadata.get_dataset(DATASET) is None
    assert metadata.count_entries(DATASET) == 0
