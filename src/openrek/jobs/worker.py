"""What runs inside a worker process: one training job, from its JSON payload to a TrainingOutcome dict.

Imports training lazily, so a server without the `train` extra still answers honestly.
"""

from __future__ import annotations

import ctypes
import dataclasses
import logging
import os
import signal
import sys
from typing import Any

from openrek.lifecycle import VersionStatus
from openrek.security.authenticator import user_policies
from openrek.security.identities import Identities
from openrek.service import s3_access
from openrek.service.context import RequestContext
from openrek.service.errors import ServiceError
from openrek.store.objects import AccessCheck, AccessDenied, ObjectStore, ObjectStoreError
from openrek.store.sealed_files import Encryption
from openrek.store.space_reserve import is_disk_full
from openrek.stores import StoreLocation, Stores, open_stores
from openrek.training.request import TrainingOutcome, TrainingRequest

log = logging.getLogger("openrek.worker")


def die_with_parent(parent_pid: int) -> None:
    """Pool initializer: on Linux, end this worker when the server process dies (even by kill -9)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass
    if os.getppid() != parent_pid:  # the server died while this worker was starting: nobody to serve
        os._exit(1)


def _manifests_readable(request: TrainingRequest, objects: ObjectStore) -> TrainingOutcome | None:
    for ref in request.training_manifests + request.testing_manifests:
        try:
            objects.head_object(ref.bucket, ref.name)
        except ObjectStoreError as exc:
            return TrainingOutcome(
                status=VersionStatus.TRAINING_FAILED.value,
                status_message=(
                    f"ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT: the manifest s3://{ref.bucket}/{ref.name} "
                    f"cannot be read ({exc.code}). Upload it, or fix the Bucket/Name in TrainingData/TestingData."
                ),
            )
    return None


_opened: dict[StoreLocation, Stores] = {}


def _stores(location: StoreLocation) -> Stores:
    """The stores at `location`, opened once per worker process (with the master key and KMS keys, so the
    job can read sealed objects and seal what it writes)."""
    if location not in _opened:
        _opened[location] = open_stores(location)
    return _opened[location]


def _acting_for(stores: Stores, caller: dict[str, Any] | None) -> AccessCheck | None:
    """The check a job's reads and writes pass: may the user who asked for the job do it, by the policies
    it has now? (None: a job from before callers were recorded, or from an open server.)"""
    if not caller:
        return None
    policies = None
    if caller.get("user_name"):
        policies = user_policies(Identities(stores.metadata), caller["account"], caller["user_name"])
    ctx = RequestContext(account=caller["account"], region=caller.get("region") or "us-east-1",
                         request_id="training-job", principal_arn=caller.get("principal_arn", ""),
                         identity_policies=policies)
    objects = stores.objects

    def check(action: str, bucket: str, key: str) -> None:
        try:
            s3_access.check(objects, ctx, action, bucket, s3_access.object_arn(bucket, key),
                            default_owner=caller.get("default_owner") or caller["account"])
        except ServiceError as exc:
            raise AccessDenied(exc.message, bucket=bucket, key=key) from None

    return check


def run_job(payload: dict[str, Any], location: StoreLocation) -> dict[str, Any]:
    """Runs one training job; returns `dataclasses.asdict(TrainingOutcome)`. Never raises for user data."""
    request = TrainingRequest.from_payload(payload)
    try:
        stores = _stores(location)
        objects = stores.objects.writing_as(Encryption.for_key(request.kms_key_arn)).acting_for(
            _acting_for(stores, request.caller))
    except Exception as exc:  # the master key is unreadable, the database is gone
        log.exception("the stores could not be opened for %s", request.version_arn)
        return dataclasses.asdict(TrainingOutcome(
            status=VersionStatus.TRAINING_FAILED.value,
            status_message=f"Training could not open the service's stores: {type(exc).__name__}: {exc}"))
    try:
        from openrek.training.pipeline import run_training
    except ImportError as exc:  # no torch: still check what can be checked, then say why we stop
        failed = _manifests_readable(request, objects)
        if failed is not None:
            return dataclasses.asdict(failed)
        outcome = TrainingOutcome(
            status=VersionStatus.TRAINING_FAILED.value,
            status_message=(
                "The manifests are readable, but model training is not available in this installation "
                f"({exc}). Install openrek with the 'train' extra (pip install 'openrek[train]')."
            ),
        )
        return dataclasses.asdict(outcome)
    try:
        outcome = run_training(request, objects)
    except Exception as exc:  # a bug in training must still end the version, with a reason
        if is_disk_full(exc):
            log.error("the data disk filled up while training %s: %s", request.version_arn, exc)
            message = (f"Training stopped: the disk holding openrek's data is full ({exc}). Free some space "
                       "there (or give the server a larger disk), then create a new version to train again. "
                       "Everything stored before is intact.")
        else:
            log.exception("training crashed for %s", request.version_arn)
            message = f"Training stopped on an internal error: {type(exc).__name__}: {exc}"
        outcome = TrainingOutcome(status=VersionStatus.TRAINING_FAILED.value, status_message=message)
    return dataclasses.asdict(outcome)
