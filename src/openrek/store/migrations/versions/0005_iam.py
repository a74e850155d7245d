"""IAM users, their inline policies, customer managed policies and user attachments.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "iam_users",
        sa.Column("account_id", sa.String(12), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(32), nullable=False, unique=True),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "iam_user_policies",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("user_name", sa.String(64), primary_key=True),
        sa.Column("policy_name", sa.String(128), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_table(
        "iam_managed_policies",
        sa.Column("arn", sa.String(2048), primary_key=True),
        sa.Column("account_id", sa.String(12), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("policy_id", sa.String(32), nullable=False, unique=True),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("default_version", sa.String(16), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "iam_user_attachments",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("user_name", sa.String(64), primary_key=True),
        sa.Column("policy_arn", sa.String(2048), sa.ForeignKey("iam_managed_policies.arn"), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("iam_user_attachments")
    op.drop_table("iam_managed_policies")
    op.drop_table("iam_user_policies")
    op.drop_table("iam_users")
