"""openrek: a self-hosted, wire-compatible Amazon Rekognition Custom Labels that really trains models."""

__version__ = "0.1.0"
