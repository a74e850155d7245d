"""The KMS service: its provider maps the wire's operations onto the key store
(`openrek.security.kms_keys`)."""
