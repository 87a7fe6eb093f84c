"""evaluations of any model on a benchmark: keyed by what decides the answers, every answer kept

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = (
    ("eval_key", sa.String(length=64)),
    ("benchmark", sa.Text()),
    ("benchmark_sha256", sa.String(length=64)),
    ("model", sa.String(length=64)),
    ("weights", sa.Text()),
    ("weights_hash", sa.String(length=64)),
    ("settings", sa.JSON()),
    ("results_uri", sa.Text()),
    ("finished_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("evaluations") as batch:
        batch.alter_column("checkpoint_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("benchmark_release_id", existing_type=sa.Integer(), nullable=True)
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
        batch.create_unique_constraint("uq_evaluations_eval_key", ["eval_key"])
    op.create_table(
        "evaluation_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=256), nullable=False),
        sa.Column("category", sa.String(length=8), nullable=False),
        sa.Column("raw_text", sa.Text(), nullable=False),
        sa.Column("letter", sa.String(length=2), nullable=True),
        sa.Column("answer_letter", sa.String(length=2), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["evaluation_id"], ["evaluations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("evaluation_id", "item_id"),
    )


def downgrade() -> None:
    op.drop_table("evaluation_answers")
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_constraint("uq_evaluations_eval_key", type_="unique")
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
        batch.alter_column("benchmark_release_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("checkpoint_id", existing_type=sa.Integer(), nullable=False)
