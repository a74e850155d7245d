"""Security: request authentication (SigV4), identities, and KMS keys with envelope encryption at rest
(`master_key`, `kms_keys`, `kms_errors`, `envelope`); later policy evaluation.

Asked by the api layer; knows nothing of HTTP frameworks (requests arrive as plain `SignedRequest`s).
"""
