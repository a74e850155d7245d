"""The AWS query protocol (form-encoded `Action=…&Version=…` in, XML out) for IAM and STS."""
