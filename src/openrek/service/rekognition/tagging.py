"""TagResource, UntagResource, ListTagsForResource on projects, versions and datasets."""

from __future__ import annotations

from typing import Any

from openrek.service.context import RequestContext
from openrek.service.errors import InvalidParameterException, ResourceNotFoundException
from openrek.service.rekognition import arns
from openrek.service.rekognition.base import ProviderBase
from openrek.service.rekognition.registry import operation

MAX_TAGS_PER_RESOURCE = 50


class TagOperations(ProviderBase):
    def _resource_exists(self, arn: str) -> bool:
        parsed = arns.parse_arn(arn)
        if parsed is None:
            return False
        if parsed.kind == "project":
            return self.metadata.get_project(arn) is not None
        if parsed.kind == "dataset":
            return self.metadata.get_dataset(arn) is not None
        return self.metadata.get_version(arn) is not None

    def _tagged(self, arn: str) -> str:
        if not self._resource_exists(arn):
            raise ResourceNotFoundException(f"The resource {arn} does not exist.")
        return arn

    @operation("TagResource", metadata_only=True)
    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._tagged(params["ResourceArn"])
        if not self.metadata.put_tags(arn, params["Tags"], max_tags=MAX_TAGS_PER_RESOURCE):
            raise InvalidParameterException(
                f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags; remove some with UntagResource first."
            )
        return {}

    @operation("UntagResource", metadata_only=True)
    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._tagged(params["ResourceArn"])
        self.metadata.remove_tags(arn, params["TagKeys"])
        return {}

    @operation("ListTagsForResource", metadata_only=True)
    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._tagged(params["ResourceArn"])
        return {"Tags": self.metadata.get_tags(arn)}
