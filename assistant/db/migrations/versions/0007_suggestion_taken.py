"""questions.suggestion_of: the question whose "您是不是想问" suggestion the user took to ask this one

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 05:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('questions') as batch:
        batch.add_column(sa.Column('suggestion_of', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('questions') as batch:
        batch.drop_column('suggestion_of')
