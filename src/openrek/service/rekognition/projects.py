"""CreateProject, DescribeProjects (with each project's Datasets), DeleteProject."""

from __future__ import annotations

from typing import Any

from openrek.lifecycle import DATASET_BUSY
from openrek.service.context import RequestContext
from openrek.service.errors import InvalidParameterException, ResourceInUseException
from openrek.service.rekognition import arns
from openrek.service.rekognition.base import ProviderBase, now_ms
from openrek.service.rekognition.registry import operation
from openrek.service.rekognition.versions_view import dataset_metadata, project_description
from openrek.store.metadata import DuplicateError
from openrek.store.schema import ProjectRow


class ProjectOperations(ProviderBase):
    @operation("CreateProject", metadata_only=True)
    def create_project(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["ProjectName"]
        feature = params.get("Feature", "CUSTOM_LABELS")
        auto_update = params.get("AutoUpdate")
        if auto_update and feature != "CONTENT_MODERATION":
            raise InvalidParameterException(
                "AutoUpdate applies only to adapters (Feature CONTENT_MODERATION); leave it out for a "
                "CUSTOM_LABELS project."
            )
        if feature == "CONTENT_MODERATION" and not auto_update:
            auto_update = "DISABLED"
        created = now_ms()
        row = ProjectRow(
            arn=arns.project_arn(ctx.region, ctx.account, name, created),
            name=name,
            account=ctx.account,
            region=ctx.region,
            created_ms=created,
            status="CREATED",
            feature=feature,
            auto_update=auto_update,
        )
        try:
            self.metadata.add_project(row)
        except DuplicateError:
            raise ResourceInUseException(
                f"A project named {name} already exists in {ctx.region}. Choose another ProjectName."
            ) from None
        if params.get("Tags"):
            self.metadata.put_tags(row.arn, params["Tags"])
        return {"ProjectArn": row.arn}

    @operation("DescribeProjects", metadata_only=True)
    def describe_projects(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names = params.get("ProjectNames")
        features = params.get("Features") or ["CUSTOM_LABELS"]
        rows = [
            r
            for r in self.metadata.list_projects(ctx.account, ctx.region)
            if r.feature in features and (names is None or r.name in names)
        ]
        scope = f"projects|{ctx.account}|{ctx.region}|{names}|{sorted(features)}"
        chunk, token = self.page_tokens.page(rows, scope, params.get("NextToken"), params.get("MaxResults"))
        datasets: dict[str, list[dict[str, Any]]] = {}
        for d in self.metadata.list_datasets([r.arn for r in chunk]):
            datasets.setdefault(d.project_arn, []).append(dataset_metadata(d))
        return {"ProjectDescriptions": [project_description(r, datasets.get(r.arn, [])) for r in chunk],
                "NextToken": token}

    @operation("DeleteProject", metadata_only=True)
    def delete_project(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._project(params["ProjectArn"])
        if self.metadata.count_versions(row.arn):
            raise ResourceInUseException(
                f"The project {row.name} still has model versions. Delete them first with "
                "DeleteProjectVersion, then delete the project."
            )
        busy = [d for d in self.metadata.list_datasets([row.arn]) if d.status in DATASET_BUSY]
        if busy:
            raise ResourceInUseException(
                f"The {busy[0].dataset_type} dataset of project {row.name} is {busy[0].status}; wait until "
                "DescribeDataset shows it complete or failed, then delete the project.")
        self.metadata.delete_project(row.arn)
        return {"Status": "DELETING"}
