"""SQLAlchemy tables for the metadata store: projects, versions, tags and training jobs.

The schema itself is created and evolved by the Alembic migrations in `migrations/`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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


class JobRow(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_arn: Mapped[str] = mapped_column(String(1024))
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # QUEUED | RUNNING | DONE
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[float] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
