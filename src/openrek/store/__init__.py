"""Storage backends: objects (directory today, S3-compatible later); metadata lives beside them."""
