"""Dataset operations: CreateDataset, DescribeDataset, DeleteDataset, ListDatasetEntries,
ListDatasetLabels, UpdateDatasetEntries, DistributeDatasetEntries.

Requests are checked here and answered at once; the work (validation, copying, splitting) is a
`dataset` job (see `dataset_work.py`) that moves the dataset to *_COMPLETE or *_FAILED.
"""

from __future__ import annotations

from typing import Any

from openrek.lifecycle import (
    DATASET_BUSY,
    DATASET_READY,
    DatasetStatus,
    DatasetStatusCode,
    dataset_message,
    dataset_sources,
)
from openrek.service.context import RequestContext
from openrek.service.errors import (
    InvalidParameterException,
    ResourceAlreadyExistsException,
    ResourceInUseException,
    ResourceNotFoundException,
    ResourceNotReadyException,
)
from openrek.service.rekognition import arns
from openrek.service.rekognition.base import ProviderBase, now_ms, queued_job, s3_object
from openrek.service.rekognition.dataset_work import JOB_KIND
from openrek.service.rekognition.registry import operation
from openrek.service.rekognition.versions_view import dataset_description
from openrek.store.dataset_records import EntryFilter
from openrek.store.metadata import DuplicateError
from openrek.store.schema import DatasetRow, JobRow

DEFAULT_PAGE = 100


def _job(arn: str, payload: dict[str, Any]) -> JobRow:
    return queued_job(arn, JOB_KIND, payload)


class DatasetOperations(ProviderBase):
    def _readable(self, arn: str) -> Any:
        row = self._dataset(arn)
        if row.status == DatasetStatus.CREATE_IN_PROGRESS:
            raise ResourceNotReadyException(
                f"The dataset {arn} is still being created (CREATE_IN_PROGRESS); wait until DescribeDataset "
                "shows CREATE_COMPLETE.")
        if row.status == DatasetStatus.CREATE_FAILED:
            raise ResourceNotReadyException(
                f"The dataset {arn} failed to be created ({row.status_message}); it has no entries. Delete it "
                "and create it again.")
        return row

    @operation("CreateDataset", metadata_only=True)
    def create_dataset(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        project = self._project(params["ProjectArn"])
        kind = params["DatasetType"]
        source = params.get("DatasetSource") or {}
        manifest = (source.get("GroundTruthManifest") or {}).get("S3Object")
        source_arn = source.get("DatasetArn")
        if manifest and source_arn:
            raise InvalidParameterException(
                "DatasetSource takes either GroundTruthManifest or DatasetArn, not both.")
        if source.get("GroundTruthManifest") is not None and not manifest:
            raise InvalidParameterException("DatasetSource.GroundTruthManifest needs S3Object (Bucket and Name).")
        if manifest:
            s3_object(manifest, "DatasetSource.GroundTruthManifest.S3Object")
            self._check_bucket_access(ctx, manifest["Bucket"], "s3:GetObject", manifest["Name"])
        if source_arn:
            src = self._dataset(source_arn)
            if src.status not in DATASET_READY:
                raise ResourceNotReadyException(
                    f"The source dataset {source_arn} is {src.status}; a dataset can be copied once it is "
                    "CREATE_COMPLETE or UPDATE_COMPLETE.")
        created = now_ms()
        arn = arns.dataset_arn(ctx.region, ctx.account, project.name, kind, created)
        payload: dict[str, Any] | None = None
        if manifest:
            payload = {"action": "create_from_manifest", "dataset_arn": arn, "manifest": manifest,
                       "feature": project.feature}
        elif source_arn:
            payload = {"action": "create_from_dataset", "dataset_arn": arn, "source_arn": source_arn}
        status = DatasetStatus.CREATE_IN_PROGRESS if payload else DatasetStatus.CREATE_COMPLETE
        row = DatasetRow(arn=arn, project_arn=project.arn, dataset_type=kind, created_ms=created,
                         updated_ms=created, status=status, status_message=dataset_message(status),
                         status_message_code=None if payload else DatasetStatusCode.SUCCESS, use_case=None)
        try:
            self.metadata.add_dataset(row, job=_job(arn, payload) if payload else None, tags=params.get("Tags"))
        except DuplicateError:
            raise ResourceAlreadyExistsException(
                f"The project {project.name} already has a {kind} dataset; a project has at most one TRAIN and one "
                "TEST dataset. Change it with UpdateDatasetEntries, or delete it (DeleteDataset) first.") from None
        if payload:
            self.wake_worker()
        return {"DatasetArn": arn}

    @operation("DescribeDataset", metadata_only=True)
    def describe_dataset(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._dataset(params["DatasetArn"])
        return {"DatasetDescription": dataset_description(row, self.metadata.dataset_stats(row.arn))}

    @operation("DeleteDataset", metadata_only=True)
    def delete_dataset(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._dataset(params["DatasetArn"])
        if row.status in DATASET_BUSY:
            raise ResourceInUseException(
                f"The dataset {row.arn} is {row.status}; wait until DescribeDataset shows it complete or failed, "
                "then delete it.")
        self.metadata.delete_dataset(row.arn)
        return {}

    @operation("ListDatasetEntries", metadata_only=True)
    def list_dataset_entries(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._readable(params["DatasetArn"])
        filters = EntryFilter(contains_labels=params.get("ContainsLabels"), labeled=params.get("Labeled"),
                              source_ref_contains=params.get("SourceRefContains"),
                              has_errors=params.get("HasErrors"))
        scope = f"entries|{row.arn}|{filters}"
        after = self.page_tokens.decode(scope, params.get("NextToken"))
        size = params.get("MaxResults") or DEFAULT_PAGE
        found = self.metadata.list_entries(row.arn, filters, after, size + 1)
        token = self.page_tokens.encode(scope, found[size - 1][0]) if len(found) > size else None
        return {"DatasetEntries": [listed for _id, listed in found[:size]], "NextToken": token}

    @operation("ListDatasetLabels", metadata_only=True)
    def list_dataset_labels(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._readable(params["DatasetArn"])
        scope = f"labels|{row.arn}"
        offset = self.page_tokens.decode(scope, params.get("NextToken"))
        size = params.get("MaxResults") or DEFAULT_PAGE
        found = self.metadata.list_labels(row.arn, offset, size + 1)
        token = self.page_tokens.encode(scope, offset + size) if len(found) > size else None
        return {"DatasetLabelDescriptions": [
            {"LabelName": name, "LabelStats": {"EntryCount": entries, "BoundingBoxCount": boxes}}
            for name, entries, boxes in found[:size]], "NextToken": token}

    @operation("UpdateDatasetEntries", metadata_only=True)
    def update_dataset_entries(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._dataset(params["DatasetArn"])
        blob: bytes = params["Changes"]["GroundTruth"]
        try:
            text = blob.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidParameterException(
                "Changes.GroundTruth must be UTF-8 JSON Lines (one JSON object per image).") from None
        lines = [raw[:-1] if raw.endswith("\r") else raw for raw in text.split("\n")]
        if not any(raw.strip() for raw in lines):
            raise InvalidParameterException("Changes.GroundTruth holds no JSON Lines; add one line per image.")
        if text.lstrip().startswith(("file://", "fileb://")):
            raise InvalidParameterException(
                f"Changes.GroundTruth holds the text {text.strip()[:80]!r}, not JSON Lines. In the aws CLI, "
                "shorthand `GroundTruth=fileb://…` sends the path itself: write `GroundTruth@=fileb://changes.jsonl` "
                "(or pass --changes file://changes.json with the lines as a JSON string).")
        if row.status in DATASET_BUSY:
            raise ResourceInUseException(
                f"The dataset {row.arn} is {row.status}: another change is in progress. Wait until "
                "DescribeDataset shows it complete, then update it.")
        if row.status == DatasetStatus.CREATE_FAILED:
            raise InvalidParameterException(
                f"The dataset {row.arn} failed to be created ({row.status_message}); delete it and create it again.")
        project = self._project(row.project_arn)
        job = _job(row.arn, {"action": "update", "dataset_arn": row.arn, "lines": lines,
                             "feature": project.feature})
        if not self.metadata.transition_dataset(row.arn, dataset_sources(DatasetStatus.UPDATE_IN_PROGRESS),
                                                DatasetStatus.UPDATE_IN_PROGRESS, job=job,
                                                status_message=dataset_message(DatasetStatus.UPDATE_IN_PROGRESS),
                                                status_message_code=None, updated_ms=now_ms()):
            raise ResourceInUseException(f"The dataset {row.arn} changed state; describe it and try again.")
        self.wake_worker()
        return {}

    @operation("DistributeDatasetEntries", metadata_only=True)
    def distribute_dataset_entries(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        given = [d["Arn"] for d in params["Datasets"]]
        rows = []
        for arn in given:
            try:
                rows.append(self._dataset(arn))
            except ResourceNotFoundException:
                raise ResourceNotFoundException(f"The dataset {arn} does not exist.") from None
        by_type = {r.dataset_type: r for r in rows}
        if set(by_type) != {"TRAIN", "TEST"}:
            raise InvalidParameterException(
                "DistributeDatasetEntries needs one TRAIN and one TEST dataset of the same project; got "
                + ", ".join(f"{r.dataset_type} {r.arn}" for r in rows) + ".")
        train, test = by_type["TRAIN"], by_type["TEST"]
        if train.project_arn != test.project_arn:
            raise InvalidParameterException(
                "The TRAIN and TEST datasets belong to different projects; both must be of one project.")
        for r in (train, test):
            if r.status not in DATASET_READY:
                raise ResourceNotReadyException(
                    f"The {r.dataset_type} dataset {r.arn} is {r.status}; both datasets must be CREATE_COMPLETE "
                    "or UPDATE_COMPLETE.")
        if self.metadata.count_entries(test.arn):
            raise InvalidParameterException(
                f"The TEST dataset {test.arn} is not empty: DistributeDatasetEntries splits the training "
                "dataset into an empty test dataset. Delete the test dataset and create it empty "
                "(CreateDataset without DatasetSource), then distribute again.")
        if not self.metadata.count_entries(train.arn):
            raise InvalidParameterException(
                f"The TRAIN dataset {train.arn} is empty: add images to it before distributing.")
        job = _job(train.arn, {"action": "distribute", "datasets": [train.arn, test.arn]})
        if not self.metadata.transition_datasets([train.arn, test.arn],
                                                 dataset_sources(DatasetStatus.UPDATE_IN_PROGRESS),
                                                 DatasetStatus.UPDATE_IN_PROGRESS, job=job,
                                                 status_message=dataset_message(DatasetStatus.UPDATE_IN_PROGRESS),
                                                 status_message_code=None, updated_ms=now_ms()):
            raise ResourceNotReadyException("A dataset changed state; describe both and try again.")
        self.wake_worker()
        return {}
