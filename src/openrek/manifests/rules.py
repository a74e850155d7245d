"""AWS's limits and error codes for Custom Labels manifests, in one place.

`Limits` holds every number the validators use (tests may shrink them); the `ERROR_…`/`WARNING_…` names
are AWS's codes as they appear in ManifestSummary and the *ManifestWithValidation files.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import imaging

MB = imaging.MB


@dataclass(frozen=True)
class Limits:
    """Rekognition Custom Labels' documented limits on manifests and images."""

    max_manifest_bytes: int = 1024 * MB  # 1 GB
    max_manifest_lines: int = 250_000
    # openrek's own: one line labels one image (50 boxes at most), a few KB; longer is no manifest line,
    # and refusing it keeps a 1 GB manifest without line ends from being read into memory whole.
    max_line_chars: int = 1_000_000
    min_image_side: int = imaging.MIN_SIDE  # the image limits are openrek.imaging's, serving's too
    max_image_side: int = imaging.MAX_SIDE
    max_aspect_ratio: float = imaging.MAX_ASPECT_RATIO
    max_image_bytes: int = imaging.MAX_S3_BYTES
    max_boxes_per_image: int = 50
    max_labels_per_image: int = 50
    min_labels_image_level: int = 2
    min_labels_detection: int = 1
    min_labels_moderation: int = 1
    max_labels: int = 250
    max_label_name_length: int = 255  # botocore's DatasetLabel
    max_invalid_fraction: float = 0.2  # invalid / (total - ignored); above it the manifest fails
    min_label_overlap: float = 0.5  # share of testing labels that must also be training labels
    autosplit_fraction: float = 0.2
    image_read_workers: int = 8


DEFAULT_LIMITS = Limits()

# Terminal manifest file errors: no validation files are written.
ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT = "ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT"
ERROR_EMPTY_MANIFEST = "ERROR_EMPTY_MANIFEST"
ERROR_MANIFEST_SIZE_TOO_LARGE = "ERROR_MANIFEST_SIZE_TOO_LARGE"
ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM = "ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM"
ERROR_CANNOT_WRITE_OUTPUT_S3_BUCKET = "ERROR_CANNOT_WRITE_OUTPUT_S3_BUCKET"
ERROR_INVALID_PERMISSIONS_MANIFEST_S3_BUCKET = "ERROR_INVALID_PERMISSIONS_MANIFEST_S3_BUCKET"
# Terminal errors of dataset operations only (CreateDataset, UpdateDatasetEntries, DistributeDatasetEntries).
ERROR_TOO_MANY_RECORDS_IN_ERROR = "ERROR_TOO_MANY_RECORDS_IN_ERROR"
ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_DISTRIBUTE = "ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_DISTRIBUTE"

# Terminal manifest content errors: reported in ManifestSummary, validation files are written.
ERROR_TOO_MANY_INVALID_ROWS_IN_MANIFEST = "ERROR_TOO_MANY_INVALID_ROWS_IN_MANIFEST"
ERROR_IMAGES_IN_MULTIPLE_S3_BUCKETS = "ERROR_IMAGES_IN_MULTIPLE_S3_BUCKETS"
ERROR_INVALID_PERMISSIONS_IMAGES_S3_BUCKET = "ERROR_INVALID_PERMISSIONS_IMAGES_S3_BUCKET"
ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_AUTOSPLIT = "ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_AUTOSPLIT"
ERROR_MANIFEST_TOO_FEW_LABELS = "ERROR_MANIFEST_TOO_FEW_LABELS"
ERROR_MANIFEST_TOO_MANY_LABELS = "ERROR_MANIFEST_TOO_MANY_LABELS"
ERROR_INSUFFICIENT_LABEL_OVERLAP = "ERROR_INSUFFICIENT_LABEL_OVERLAP"
ERROR_MANIFEST_TOO_FEW_USABLE_LABELS = "ERROR_MANIFEST_TOO_FEW_USABLE_LABELS"
ERROR_INSUFFICIENT_USABLE_LABEL_OVERLAP = "ERROR_INSUFFICIENT_USABLE_LABEL_OVERLAP"

# Per-line (non-terminal) errors and warnings.
ERROR_INVALID_JSON_LINE = "ERROR_INVALID_JSON_LINE"
ERROR_MISSING_SOURCE_REF = "ERROR_MISSING_SOURCE_REF"
ERROR_INVALID_SOURCE_REF_FORMAT = "ERROR_INVALID_SOURCE_REF_FORMAT"
ERROR_NO_LABEL_ATTRIBUTES = "ERROR_NO_LABEL_ATTRIBUTES"
ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT = "ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT"
ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT = "ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT"
ERROR_NO_VALID_LABEL_ATTRIBUTES = "ERROR_NO_VALID_LABEL_ATTRIBUTES"
ERROR_MISSING_BOUNDING_BOX_CONFIDENCE = "ERROR_MISSING_BOUNDING_BOX_CONFIDENCE"
ERROR_MISSING_CLASS_MAP_ID = "ERROR_MISSING_CLASS_MAP_ID"
ERROR_INVALID_IMAGE = "ERROR_INVALID_IMAGE"
ERROR_INVALID_IMAGE_DIMENSION = "ERROR_INVALID_IMAGE_DIMENSION"
ERROR_INVALID_BOUNDING_BOX = "ERROR_INVALID_BOUNDING_BOX"
ERROR_BOUNDING_BOX_TOO_SMALL = "ERROR_BOUNDING_BOX_TOO_SMALL"
ERROR_TOO_MANY_BOUNDING_BOXES = "ERROR_TOO_MANY_BOUNDING_BOXES"
ERROR_NO_VALID_ANNOTATIONS = "ERROR_NO_VALID_ANNOTATIONS"
ERROR_UNSUPPORTED_USE_CASE_TYPE = "ERROR_UNSUPPORTED_USE_CASE_TYPE"
ERROR_INVALID_LABEL_NAME_LENGTH = "ERROR_INVALID_LABEL_NAME_LENGTH"
WARNING_UNANNOTATED_RECORD = "WARNING_UNANNOTATED_RECORD"
WARNING_NO_ANNOTATIONS = "WARNING_NO_ANNOTATIONS"
WARNING_NO_ATTRIBUTE_ANNOTATIONS = "WARNING_NO_ATTRIBUTE_ANNOTATIONS"

TERMINAL_FILE_ERRORS = frozenset({
    ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT, ERROR_EMPTY_MANIFEST, ERROR_MANIFEST_SIZE_TOO_LARGE,
    ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM, ERROR_CANNOT_WRITE_OUTPUT_S3_BUCKET,
    ERROR_INVALID_PERMISSIONS_MANIFEST_S3_BUCKET,
})

# Ground Truth `type` values in `<attr>-metadata`.
TYPE_CLASSIFICATION = "groundtruth/image-classification"
TYPE_MULTILABEL = "groundtruth/image-classification-multilabel"
TYPE_DETECTION = "groundtruth/object-detection"
MODERATION_ATTRIBUTE = "content-moderation-groundtruth"
