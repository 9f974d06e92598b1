"""embeddings: passage vectors shared by the machines of a deployment (encoder id + sha256 of the text)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 06:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('embeddings',
    sa.Column('encoder', sa.String(length=80), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('encoder', 'key')
    )


def downgrade() -> None:
    op.drop_table('embeddings')
