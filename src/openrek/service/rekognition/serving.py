"""StartProjectVersion, StopProjectVersion, DetectCustomLabels: serving a trained (or copied) model."""

from __future__ import annotations

from typing import Any

from openrek import imaging
from openrek.lifecycle import STARTABLE, VersionStatus, version_message, version_sources
from openrek.security.kms_errors import KmsError
from openrek.service.context import RequestContext
from openrek.service.errors import (
    ProvisionedThroughputExceededException,
    ResourceInUseException,
    ResourceNotReadyException,
)
from openrek.service.rekognition.base import ProviderBase
from openrek.service.rekognition.images import image_bytes, service_error
from openrek.service.rekognition.registry import operation
from openrek.service.rekognition.version_keys import DETAIL as KMS_DETAIL
from openrek.service.rekognition.version_keys import check_startable
from openrek.serving.host import ModelBusy, ModelHost, ModelNotLoaded
from openrek.store.schema import VersionRow


class ServingOperations(ProviderBase):
    def _hosting(self) -> ModelHost:
        if self.models is None:
            raise ResourceNotReadyException("This openrek server does not host models.")
        return self.models

    def _check_version_key(self, row: VersionRow) -> None:
        """A model whose KMS key is now disabled or pending deletion does not start (AWS: a disabled key
        stops new starts; running models keep running)."""
        if self.kms_keys is None or not row.kms_key_id:
            return
        key_arn = (row.details or {}).get(KMS_DETAIL)
        if key_arn is None:  # recorded before keys were checked: resolve what was given, if it exists
            account, region = row.arn.split(":")[4], row.arn.split(":")[3]
            try:
                key_arn = self.kms_keys.resolve_key(account, region, row.kms_key_id).arn
            except KmsError:
                return  # never checked, never resolvable: it starts as it did before
        check_startable(self.kms_keys, key_arn, row.name)

    @operation("StartProjectVersion")
    def start_project_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._version(params["ProjectVersionArn"])
        hosting = self._hosting()
        model = (row.details or {}).get("model")
        if row.status in (VersionStatus.RUNNING, VersionStatus.STARTING):
            raise ResourceInUseException(f"The model {row.name} is already {row.status}.")
        if row.status not in STARTABLE or not model:
            raise ResourceNotReadyException(
                f"The model {row.name} cannot start: its status is {row.status}. Only a model whose training "
                "completed (TRAINING_COMPLETED), a finished copy (COPYING_COMPLETED) or a stopped model can be "
                "started."
            )
        self._check_version_key(row)
        fields = {"min_inference_units": params["MinInferenceUnits"],
                  "max_inference_units": params.get("MaxInferenceUnits")}
        if not self.metadata.transition_version(row.arn, sorted(STARTABLE), VersionStatus.STARTING,
                                                status_message=version_message(VersionStatus.STARTING), **fields):
            raise ResourceInUseException(f"The model {row.name} changed state; describe it and try again.")
        hosting.start(row.arn, model["artifact"])
        return {"Status": VersionStatus.STARTING}

    @operation("StopProjectVersion", metadata_only=True)
    def stop_project_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._version(params["ProjectVersionArn"])
        hosting = self._hosting()
        if not self.metadata.transition_version(row.arn, version_sources(VersionStatus.STOPPING),
                                                VersionStatus.STOPPING,
                                                status_message=version_message(VersionStatus.STOPPING)):
            raise ResourceInUseException(
                f"The model {row.name} is not running (status {row.status}), so it cannot be stopped."
            )
        hosting.stop(row.arn)
        return {"Status": VersionStatus.STOPPING}

    @operation("DetectCustomLabels")
    def detect_custom_labels(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["ProjectVersionArn"]
        row = self._version(arn)
        if row.status != VersionStatus.RUNNING:
            raise ResourceNotReadyException(
                f"The model {row.name} is not running (status {row.status}). Start it with "
                "StartProjectVersion and wait for RUNNING (aws rekognition wait project-version-running)."
            )
        source = params["Image"].get("S3Object")
        if source and source.get("Bucket"):
            self._check_bucket_access(ctx, source["Bucket"], "s3:GetObject", source.get("Name") or "*")
        data = image_bytes(self.objects, params["Image"])
        try:
            labels = self._hosting().predict(arn, data, params.get("MinConfidence"), params.get("MaxResults"))
        except ModelNotLoaded:
            raise ResourceNotReadyException(f"The model {row.name} is still loading; try again shortly.") from None
        except ModelBusy:
            raise ProvisionedThroughputExceededException(
                f"The model {row.name}'s inference units did not answer in time: more requests arrive than they "
                "can take. Retry with backoff, or start the model with a higher MaxInferenceUnits.") from None
        except imaging.ImageError as exc:  # the header was fine, the pixels do not decode
            raise service_error(exc) from None
        return {"CustomLabels": labels}
