"""The IAM subset: users, their access keys, inline and managed policies, attachments."""
