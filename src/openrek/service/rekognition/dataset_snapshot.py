"""Freezes a project's TRAIN and TEST datasets into manifests for one training job.

The snapshot lives beside the version's model in the internal models bucket, so editing a dataset
later changes no trained version, and the training pipeline reads datasets exactly like manifests.
"""

from __future__ import annotations

from typing import Any

from openrek.service.rekognition.training_jobs import MODELS_BUCKET
from openrek.store.metadata import MetadataStore
from openrek.store.objects import ObjectStore


def write_snapshot(metadata: MetadataStore, objects: ObjectStore, prefix: str, train_arn: str,
                   test_arn: str) -> dict[str, Any]:
    """Writes `<prefix>datasets/{train,test}.manifest`; returns the job payload's manifest refs."""
    refs: dict[str, Any] = {}
    for role, arn in (("training", train_arn), ("testing", test_arn)):
        lines = [line for _ref, line, _labels, _errors in metadata.entry_lines(arn)]
        key = f"{prefix}datasets/{'train' if role == 'training' else 'test'}.manifest"
        objects.put_object(MODELS_BUCKET, key, ("\n".join(lines) + "\n").encode("utf-8"),
                           content_type="application/jsonl")
        refs[role] = {"bucket": MODELS_BUCKET, "name": key, "version": None, "internal": True}
    return refs
