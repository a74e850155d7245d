"""Rekognition's JSON 1.1 wire protocol: parse, validate against botocore's model, serialize."""
