"""Security: request authentication (SigV4, `sigv4`, `authenticator`), identities (`identities`), IAM
policy evaluation (`policy_*`), and KMS keys with envelope encryption at rest (`master_key`, `kms_keys`,
`kms_errors`, `envelope`).

Asked by the api layer; knows nothing of HTTP frameworks (requests arrive as plain `SignedRequest`s).
"""
