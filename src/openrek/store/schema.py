"""SQLAlchemy tables for the metadata store: projects, versions, datasets and their entries, project
policies, tags, jobs, identities (accounts, keys, IAM users with their inline and managed policies) and
KMS keys (with their aliases and grants).

The schema itself is created and evolved by the Alembic migrations in `migrations/`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ProjectRow(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("account", "region", "name", name="uq_project_name"),)

    arn: Mapped[str] = mapped_column(String(512), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    account: Mapped[str] = mapped_column(String(12))
    region: Mapped[str] = mapped_column(String(64))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(32))
    feature: Mapped[str] = mapped_column(String(32))
    auto_update: Mapped[str | None] = mapped_column(String(16), nullable=True)


class VersionRow(Base):
    __tablename__ = "project_versions"
    __table_args__ = (
        UniqueConstraint("project_arn", "name", name="uq_version_name"),
        Index("ix_versions_project_created", "project_arn", "created_ms"),
    )

    arn: Mapped[str] = mapped_column(String(1024), primary_key=True)
    project_arn: Mapped[str] = mapped_column(String(512), ForeignKey("projects.arn"))
    name: Mapped[str] = mapped_column(String(255))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(32))
    status_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    kms_key_id: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    output_config: Mapped[dict[str, Any]] = mapped_column(JSON)
    training_data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    testing_data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    feature_config: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    min_inference_units: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_inference_units: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Results of training and serving, in DescribeProjectVersions' wire shapes.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class TagRow(Base):
    __tablename__ = "tags"

    resource_arn: Mapped[str] = mapped_column(String(1024), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class DatasetRow(Base):
    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("project_arn", "dataset_type", name="uq_dataset_type"),)

    arn: Mapped[str] = mapped_column(String(1024), primary_key=True)
    project_arn: Mapped[str] = mapped_column(String(512), ForeignKey("projects.arn"))
    dataset_type: Mapped[str] = mapped_column(String(8))  # TRAIN | TEST
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(32))
    status_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    status_message_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # IMAGE_LEVEL_LABELS | OBJECT_LOCALIZATION, once entries decide it (None while empty).
    use_case: Mapped[str | None] = mapped_column(String(32), nullable=True)


class DatasetEntryRow(Base):
    """One image of a dataset: the JSON Line as the user gave it, and as ListDatasetEntries shows it."""

    __tablename__ = "dataset_entries"
    __table_args__ = (UniqueConstraint("dataset_arn", "source_ref", name="uq_entry_source"),
                      Index("ix_entries_dataset_id", "dataset_arn", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_arn: Mapped[str] = mapped_column(String(1024))
    source_ref: Mapped[str] = mapped_column(String(2048))
    line: Mapped[str] = mapped_column(Text)  # the JSON Line as given (what training reads)
    listed: Mapped[str] = mapped_column(Text)  # the JSON Line with its `errors` lists, when it has any
    labeled: Mapped[bool] = mapped_column(Boolean)
    has_errors: Mapped[bool] = mapped_column(Boolean)


class DatasetLabelRow(Base):
    """A label of one entry and its number of bounding boxes (0 for image-level labels)."""

    __tablename__ = "dataset_entry_labels"
    __table_args__ = (Index("ix_entry_labels_label", "dataset_arn", "label"),)

    dataset_arn: Mapped[str] = mapped_column(String(1024), primary_key=True)
    source_ref: Mapped[str] = mapped_column(String(2048), primary_key=True)
    label: Mapped[str] = mapped_column(String(255), primary_key=True)
    boxes: Mapped[int] = mapped_column(Integer, default=0)


class ProjectPolicyRow(Base):
    __tablename__ = "project_policies"

    project_arn: Mapped[str] = mapped_column(String(512), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    revision_id: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class AccessKeyRow(Base):
    """An access key pair; `user_name` None is the account's root. The secret must be kept to verify HMACs."""

    __tablename__ = "access_keys"

    access_key_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    secret: Mapped[str] = mapped_column(String(128))
    account_id: Mapped[str] = mapped_column(String(12), ForeignKey("accounts.id"))
    user_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # Active | Inactive
    created_ms: Mapped[int] = mapped_column(BigInteger)


class JobRow(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_arn: Mapped[str] = mapped_column(String(1024))  # the resource the job works on (version or dataset)
    kind: Mapped[str] = mapped_column(String(32))  # train | dataset | copy
    state: Mapped[str] = mapped_column(String(16))  # QUEUED | RUNNING | DONE
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[float] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The runner holding a RUNNING job (host:pid:token) and the time its lease ends unless renewed.
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_until: Mapped[float | None] = mapped_column(Float, nullable=True)


class KmsKeyRow(Base):
    """A KMS key; its material only ever stored wrapped by the server's master key."""

    __tablename__ = "kms_keys"
    __table_args__ = (Index("ix_kms_keys_account_region", "account", "region", "key_id"),
                      Index("ix_kms_keys_deletion", "deletion_ms"))

    key_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account: Mapped[str] = mapped_column(String(12))
    region: Mapped[str] = mapped_column(String(64))
    arn: Mapped[str] = mapped_column(String(2048), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(32))  # Enabled | Disabled | PendingDeletion
    created_ms: Mapped[int] = mapped_column(BigInteger)
    deletion_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    pending_window_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    key_usage: Mapped[str] = mapped_column(String(32))
    key_spec: Mapped[str] = mapped_column(String(32))
    origin: Mapped[str] = mapped_column(String(32))
    policy: Mapped[str] = mapped_column(Text)
    wrapped_material: Mapped[bytes] = mapped_column(LargeBinary)


class KmsAliasRow(Base):
    __tablename__ = "kms_aliases"
    __table_args__ = (Index("ix_kms_aliases_target", "target_key_id"),)

    account: Mapped[str] = mapped_column(String(12), primary_key=True)
    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), primary_key=True)  # alias/…
    target_key_id: Mapped[str] = mapped_column(String(36), ForeignKey("kms_keys.key_id"))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class KmsGrantRow(Base):
    """A grant; its tokens are MACs over the grant id (see security/kms_keys.py), so none is stored."""

    __tablename__ = "kms_grants"
    __table_args__ = (Index("ix_kms_grants_key", "key_id", "grant_id"),)

    grant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(36), ForeignKey("kms_keys.key_id"))
    name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    grantee_principal: Mapped[str] = mapped_column(String(256))
    retiring_principal: Mapped[str | None] = mapped_column(String(256), nullable=True)
    operations: Mapped[list[str]] = mapped_column(JSON)
    constraints: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    issuing_account: Mapped[str] = mapped_column(String(12))
    created_ms: Mapped[int] = mapped_column(BigInteger)


class IamUserRow(Base):
    """An IAM user of an account; its access keys are `access_keys` rows naming it."""

    __tablename__ = "iam_users"

    account_id: Mapped[str] = mapped_column(String(12), ForeignKey("accounts.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), unique=True)
    path: Mapped[str] = mapped_column(String(512))
    created_ms: Mapped[int] = mapped_column(BigInteger)


class IamUserPolicyRow(Base):
    """An inline policy embedded in a user (the document as given, checked against the grammar)."""

    __tablename__ = "iam_user_policies"

    account_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    policy_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    document: Mapped[str] = mapped_column(Text)


class IamManagedPolicyRow(Base):
    """A customer managed policy; only its default version (v1) is kept."""

    __tablename__ = "iam_managed_policies"

    arn: Mapped[str] = mapped_column(String(2048), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(12), ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(128))
    policy_id: Mapped[str] = mapped_column(String(32), unique=True)
    path: Mapped[str] = mapped_column(String(512))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    document: Mapped[str] = mapped_column(Text)
    default_version: Mapped[str] = mapped_column(String(16))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class IamAttachmentRow(Base):
    """A managed policy attached to a user."""

    __tablename__ = "iam_user_attachments"

    account_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    policy_arn: Mapped[str] = mapped_column(String(2048), ForeignKey("iam_managed_policies.arn"), primary_key=True)
