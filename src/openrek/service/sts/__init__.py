"""The STS subset: GetCallerIdentity."""
