"""Datasets, their entries and labels; project policies.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("arn", sa.String(1024), primary_key=True),
        sa.Column("project_arn", sa.String(512), sa.ForeignKey("projects.arn"), nullable=False),
        sa.Column("dataset_type", sa.String(8), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_message", sa.Text, nullable=True),
        sa.Column("status_message_code", sa.String(16), nullable=True),
        sa.Column("use_case", sa.String(32), nullable=True),
        sa.UniqueConstraint("project_arn", "dataset_type", name="uq_dataset_type"),
    )
    op.create_table(
        "dataset_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset_arn", sa.String(1024), nullable=False),
        sa.Column("source_ref", sa.String(2048), nullable=False),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("listed", sa.Text, nullable=False),
        sa.Column("labeled", sa.Boolean, nullable=False),
        sa.Column("has_errors", sa.Boolean, nullable=False),
        sa.UniqueConstraint("dataset_arn", "source_ref", name="uq_entry_source"),
    )
    # ListDatasetEntries pages in insertion order: (dataset, id) keeps a page O(page), not O(dataset).
    op.create_index("ix_entries_dataset_id", "dataset_entries", ["dataset_arn", "id"])
    op.create_table(
        "dataset_entry_labels",
        sa.Column("dataset_arn", sa.String(1024), primary_key=True),
        sa.Column("source_ref", sa.String(2048), primary_key=True),
        sa.Column("label", sa.String(255), primary_key=True),
        sa.Column("boxes", sa.Integer, nullable=False),
    )
    op.create_index("ix_entry_labels_label", "dataset_entry_labels", ["dataset_arn", "label"])
    op.create_table(
        "project_policies",
        sa.Column("project_arn", sa.String(512), primary_key=True),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("revision_id", sa.String(64), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("project_policies")
    op.drop_index("ix_entry_labels_label", "dataset_entry_labels")
    op.drop_table("dataset_entry_labels")
    op.drop_index("ix_entries_dataset_id", "dataset_entries")
    op.drop_table("dataset_entries")
    op.drop_table("datasets")
