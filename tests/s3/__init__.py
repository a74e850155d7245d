"""Tests of the object store and the S3 REST endpoint."""
