"""Copies a training job's images into the service before training, as Custom Labels does.

The user's images stay where they are (entries and evaluation files keep their `source-ref`s); the
job trains from its own copies under the version's artifact prefix, so a model's training data is
frozen with it even if the user later changes or deletes the originals.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from openrek.manifests.types import ManifestRecord
from openrek.store.objects import ObjectStore, ObjectStoreError
from openrek.store.space_reserve import is_disk_full


class ImageCopyError(Exception):
    """An image could not be copied (ERROR_FAILED_IMAGES_S3_COPY)."""


def copy_images(objects: ObjectStore, records: Sequence[ManifestRecord], bucket: str, prefix: str,
                workers: int = 8) -> list[ManifestRecord]:
    """The records pointing at copies in `bucket` under `<prefix>images/`; one copy per distinct image."""
    targets: dict[tuple[str, str, str | None], str] = {}
    for r in records:
        targets.setdefault((r.bucket, r.key, r.version), f"{prefix}images/{len(targets):06d}-{r.key.rsplit('/', 1)[-1]}")

    def copy(item: tuple[tuple[str, str, str | None], str]) -> None:
        (src_bucket, src_key, _version), key = item
        try:
            objects.copy_object(src_bucket, src_key, bucket, key)
        except ObjectStoreError as exc:
            raise ImageCopyError(f"s3://{src_bucket}/{src_key} could not be copied ({exc.code}: {exc.message})") from None
        except OSError as exc:
            if is_disk_full(exc):
                raise  # not this image's fault: the job says the disk is full
            raise ImageCopyError(f"s3://{src_bucket}/{src_key} could not be copied ({exc})") from None
        except Exception as exc:  # e.g. the image is sealed under a KMS key that is now disabled
            raise ImageCopyError(f"s3://{src_bucket}/{src_key} could not be copied ({type(exc).__name__}: {exc})") \
                from None

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets) or 1))) as pool:
        list(pool.map(copy, targets.items()))
    return [dataclasses.replace(r, bucket=bucket, key=targets[(r.bucket, r.key, r.version)], version=None)
            for r in records]
