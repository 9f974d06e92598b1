"""wechat: inbound message log with stored replies, followers (binding, handoff state), access tokens

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 08:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('wechat_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=50), nullable=False),
    sa.Column('msg_key', sa.String(length=160), nullable=False),
    sa.Column('openid', sa.String(length=100), nullable=False),
    sa.Column('msg_type', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reply', sa.Text(), nullable=False),
    sa.Column('reply_wire', sa.Text(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account', 'msg_key', name='uq_wechat_messages_account_key')
    )
    with op.batch_alter_table('wechat_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_messages_openid'), ['openid'], unique=False)

    op.create_table('wechat_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=50), nullable=False),
    sa.Column('openid', sa.String(length=100), nullable=False),
    sa.Column('enterprise', sa.String(length=200), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('bound_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('awaiting_handoff', sa.Boolean(), nullable=False),
    sa.Column('subscribed', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account', 'openid', name='uq_wechat_users_account_openid')
    )
    with op.batch_alter_table('wechat_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_users_openid'), ['openid'], unique=False)
        batch_op.create_index(batch_op.f('ix_wechat_users_uscc'), ['uscc'], unique=False)

    op.create_table('wechat_tokens',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('wechat_tokens')
    with op.batch_alter_table('wechat_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wechat_users_uscc'))
        batch_op.drop_index(batch_op.f('ix_wechat_users_openid'))

    op.drop_table('wechat_users')
    with op.batch_alter_table('wechat_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wechat_messages_openid'))

    op.drop_table('wechat_messages')
