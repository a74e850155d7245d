"""KMS keys (material wrapped by the master key), their aliases and grants.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kms_keys",
        sa.Column("key_id", sa.String(36), primary_key=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("arn", sa.String(2048), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("deletion_ms", sa.BigInteger, nullable=True),
        sa.Column("pending_window_days", sa.Integer, nullable=True),
        sa.Column("key_usage", sa.String(32), nullable=False),
        sa.Column("key_spec", sa.String(32), nullable=False),
        sa.Column("origin", sa.String(32), nullable=False),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("wrapped_material", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_kms_keys_account_region", "kms_keys", ["account", "region", "key_id"])
    op.create_index("ix_kms_keys_deletion", "kms_keys", ["deletion_ms"])
    op.create_table(
        "kms_aliases",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("target_key_id", sa.String(36), sa.ForeignKey("kms_keys.key_id"), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_kms_aliases_target", "kms_aliases", ["target_key_id"])
    op.create_table(
        "kms_grants",
        sa.Column("grant_id", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(36), sa.ForeignKey("kms_keys.key_id"), nullable=False),
        sa.Column("name", sa.String(256), nullable=True),
        sa.Column("grantee_principal", sa.String(256), nullable=False),
        sa.Column("retiring_principal", sa.String(256), nullable=True),
        sa.Column("operations", sa.JSON, nullable=False),
        sa.Column("constraints", sa.JSON, nullable=True),
        sa.Column("issuing_account", sa.String(12), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_kms_grants_key", "kms_grants", ["key_id", "grant_id"])


def downgrade() -> None:
    op.drop_index("ix_kms_grants_key", "kms_grants")
    op.drop_table("kms_grants")
    op.drop_index("ix_kms_aliases_target", "kms_aliases")
    op.drop_table("kms_aliases")
    op.drop_index("ix_kms_keys_deletion", "kms_keys")
    op.drop_index("ix_kms_keys_account_region", "kms_keys")
    op.drop_table("kms_keys")
