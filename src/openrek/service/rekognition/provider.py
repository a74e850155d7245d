"""The Rekognition Custom Labels provider: every operation group mixed into one object.

Each group lives in its own module and registers its methods with `@operation("<AWS name>")`;
`operations` maps AWS operation names to them for the wire layer. Methods take a `RequestContext`
and the validated request parameters (botocore member names) and return the response dict; rule
violations raise the typed errors of `openrek.service.errors`. See docs/adding-an-operation.md.
"""

from __future__ import annotations

from typing import Any

from openrek.service.rekognition.base import ProviderBase
from openrek.service.rekognition.copying import CopyOperations
from openrek.service.rekognition.datasets import DatasetOperations
from openrek.service.rekognition.policies import PolicyOperations
from openrek.service.rekognition.projects import ProjectOperations
from openrek.service.rekognition.registry import Operation, bind_operations
from openrek.service.rekognition.serving import ServingOperations
from openrek.service.rekognition.tagging import TagOperations
from openrek.service.rekognition.versions import VersionOperations

__all__ = ["RekognitionProvider"]


class RekognitionProvider(ProjectOperations, VersionOperations, ServingOperations, TagOperations,
                          DatasetOperations, CopyOperations, PolicyOperations, ProviderBase):
    """Custom Labels operations over a metadata store, an object store and a job queue."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.operations: dict[str, Operation] = bind_operations(self)
