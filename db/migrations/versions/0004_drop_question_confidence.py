"""drop question_items.confidence: never set (items carry their margin; review gives agreement)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("question_items") as batch:
        batch.drop_column("confidence")


def downgrade() -> None:
    with op.batch_alter_table("question_items") as batch:
        batch.add_column(sa.Column("confidence", sa.Float(), nullable=True))
