"""The S3 REST protocol (path-style) over an `ObjectStore`: enough of S3 for boto3 and `aws s3`."""

from openrek.api.s3.handler import handle_s3

__all__ = ["handle_s3"]
