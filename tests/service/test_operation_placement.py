"""Where the wire layer runs an operation: requests that touch only metadata on the event loop, the rest
(a dataset snapshot, images, models) on worker threads."""

from __future__ import annotations

from pathlib import Path

from openrek.service.registry import bind_operations, operation
from openrek.service.rekognition.provider import RekognitionProvider
from openrek.store.database import migrate, open_engine
from openrek.store.metadata import MetadataStore
from openrek.store.objects import DirectoryObjectStore

ASSETS = {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "b", "Name": "m"}}}]}


def test_metadata_only_may_depend_on_the_request() -> None:
    class Provider:
        @operation("Small", metadata_only=True)
        def small(self, ctx, params):  # type: ignore[no-untyped-def]
            return {}

        @operation("Big")
        def big(self, ctx, params):  # type: ignore[no-untyped-def]
            return {}

        @operation("Depends", metadata_only=lambda params: not params.get("Large"))
        def depends(self, ctx, params):  # type: ignore[no-untyped-def]
            return {}

    ops = bind_operations(Provider())
    assert ops["Small"].metadata_only({}) and not ops["Big"].metadata_only({})
    assert ops["Depends"].metadata_only({}) and not ops["Depends"].metadata_only({"Large": True})


def test_create_project_version_leaves_the_event_loop_only_to_snapshot_datasets(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'openrek.db'}")
    migrate(engine)
    provider = RekognitionProvider(MetadataStore(engine), DirectoryObjectStore(tmp_path / "s3"), lambda: None)
    create = provider.operations["CreateProjectVersion"]
    base = {"ProjectArn": "arn", "VersionName": "v", "OutputConfig": {"S3Bucket": "b"}}
    assert create.metadata_only({**base, "TrainingData": ASSETS, "TestingData": {"AutoCreate": True}})
    # Refused (both or neither), but without a snapshot: the event loop answers.
    assert create.metadata_only({**base, "TrainingData": ASSETS})
    assert create.metadata_only({**base, "TestingData": {"AutoCreate": True}})
    assert not create.metadata_only(base)  # trains from the project's datasets: writes their snapshot
    assert provider.operations["DescribeProjectVersions"].metadata_only({"ProjectArn": "arn"})
    assert not provider.operations["DeleteProjectVersion"].metadata_only({"ProjectVersionArn": "arn"})
