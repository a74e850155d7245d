"""Security: request authentication (SigV4, `sigv4`, `authenticator`), identities (`identities`), IAM
policy evaluation (`policy_*`), and KMS keys and the data keys of objects sealed at rest (`master_key`, `kms_keys`, `object_keys`,
`kms_errors`).

Asked by the api layer; knows nothing of HTTP frameworks (requests arrive as plain `SignedRequest`s).
"""
