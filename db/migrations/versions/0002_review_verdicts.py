"""review verdicts: provenance of annotations, adjudication tasks, pull cursor

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("question_items") as batch:
        batch.add_column(sa.Column("ls_adjudication_task_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("agreement", sa.Float(), nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint("uq_question_items_ls_adjudication_task_id", ["ls_adjudication_task_id"])
    with op.batch_alter_table("annotations") as batch:
        batch.add_column(sa.Column("ls_task_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("adjudication", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("annotator_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("source", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("ls_created_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("ls_updated_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "review_sync",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ls_project_id", sa.Integer(), nullable=False),
        sa.Column("pulled_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ls_project_id"),
    )


def downgrade() -> None:
    op.drop_table("review_sync")
    with op.batch_alter_table("annotations") as batch:
        for column in ("ls_updated_at", "ls_created_at", "source", "annotator_id", "adjudication", "ls_task_id"):
            batch.drop_column(column)
    with op.batch_alter_table("question_items") as batch:
        batch.drop_constraint("uq_question_items_ls_adjudication_task_id", type_="unique")
        for column in ("reviewed_at", "agreement", "ls_adjudication_task_id"):
            batch.drop_column(column)
