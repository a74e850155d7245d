"""Serving: where started models live and answer DetectCustomLabels.

`host.py` is the interface the service talks to (`ModelHost`); `local.py` holds models in this process
(one ONNX Runtime session per running version), the embedded default.
"""
