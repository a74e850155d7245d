"""Security: request authentication (SigV4), identities, IAM policy evaluation, and later KMS keys.

Asked by the api layer; knows nothing of HTTP frameworks (requests arrive as plain `SignedRequest`s).
"""
