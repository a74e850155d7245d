"""The AWS JSON 1.1 protocol for any service botocore describes: model, validation, serialisation,
dispatch."""
