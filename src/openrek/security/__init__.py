"""Security: request authentication (SigV4), and later identities, policy evaluation and KMS keys.

Asked by the api layer; knows nothing of HTTP frameworks (requests arrive as plain `SignedRequest`s).
"""
