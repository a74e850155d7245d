"""Ground Truth manifests: parsing, validation with AWS's error codes, splitting, validation files."""
