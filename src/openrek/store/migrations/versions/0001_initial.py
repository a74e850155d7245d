"""Initial schema: projects, project versions, tags, jobs.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("arn", sa.String(512), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("feature", sa.String(32), nullable=False),
        sa.Column("auto_update", sa.String(16), nullable=True),
        sa.UniqueConstraint("account", "region", "name", name="uq_project_name"),
    )
    op.create_table(
        "project_versions",
        sa.Column("arn", sa.String(1024), primary_key=True),
        sa.Column("project_arn", sa.String(512), sa.ForeignKey("projects.arn"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_message", sa.Text, nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("kms_key_id", sa.String(2048), nullable=True),
        sa.Column("output_config", sa.JSON, nullable=False),
        sa.Column("training_data", sa.JSON, nullable=True),
        sa.Column("testing_data", sa.JSON, nullable=True),
        sa.Column("feature_config", sa.JSON, nullable=True),
        sa.Column("min_inference_units", sa.Integer, nullable=True),
        sa.Column("max_inference_units", sa.Integer, nullable=True),
        sa.Column("details", sa.JSON, nullable=False),
        sa.UniqueConstraint("project_arn", "name", name="uq_version_name"),
    )
    op.create_index("ix_versions_project_created", "project_versions", ["project_arn", "created_ms"])
    op.create_table(
        "tags",
        sa.Column("resource_arn", sa.String(1024), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version_arn", sa.String(1024), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
        sa.Column("message", sa.Text, nullable=True),
    )
    op.create_index("ix_jobs_state", "jobs", ["state"])


def downgrade() -> None:
    op.drop_table("jobs")
    op.drop_table("tags")
    op.drop_index("ix_versions_project_created", "project_versions")
    op.drop_table("project_versions")
    op.drop_table("projects")
