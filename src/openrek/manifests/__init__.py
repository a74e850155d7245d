"""Ground Truth manifests: parsing, validation with AWS's error codes, splitting, validation files.

Training calls `prepare_datasets` (or `load_datasets`) and reads images with `load_rgb_image`; see
`datasets.py` for the error contract.
"""

from .autosplit import autosplit
from .datasets import ManifestContentError, PreparedData, load_datasets, prepare_datasets
from .image_check import decode_rgb, load_rgb_image, to_rgb
from .output_files import OutputFiles, output_file_name, output_key
from .refs import ManifestRef, as_ref
from .rules import DEFAULT_LIMITS, Limits
from .types import Box, ManifestError, ManifestRecord, TerminalManifestError, UseCase
from .validation import ValidatedManifest, validate_manifest, validate_manifests

__all__ = [
    "DEFAULT_LIMITS", "Box", "Limits", "ManifestContentError", "ManifestError", "ManifestRecord", "ManifestRef",
    "OutputFiles", "PreparedData", "TerminalManifestError", "UseCase", "ValidatedManifest", "as_ref", "autosplit",
    "decode_rgb", "load_datasets", "load_rgb_image", "output_file_name", "output_key", "prepare_datasets",
    "to_rgb", "validate_manifest", "validate_manifests",
]
