"""企业环保咨询日: days, agenda items, participants (registration / invitation / attendance), follow-ups;
queue_items.reopened_from (an item a follow-up reported unresolved)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('queue_items') as batch:
        batch.add_column(sa.Column('reopened_from', sa.Integer(), nullable=True))
    op.create_table('consult_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organiser', sa.String(length=50), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('time_text', sa.String(length=100), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('moved_reason', sa.String(length=200), nullable=False),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('frozen_by', sa.String(length=50), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organiser', 'month', name='uq_consult_days_organiser_month')
    )
    op.create_index('ix_consult_days_organiser', 'consult_days', ['organiser'])
    op.create_index('ix_consult_days_status', 'consult_days', ['status'])
    op.create_table('consult_agenda_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day_id', sa.Integer(), nullable=False),
    sa.Column('queue_item_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('topic', sa.String(length=50), nullable=False),
    sa.Column('lead_unit', sa.String(length=50), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('askers', sa.Integer(), nullable=False),
    sa.Column('enterprises', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('outcome_citations', sa.JSON(), nullable=False),
    sa.Column('curated_id', sa.String(length=60), nullable=True),
    sa.Column('outcome_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome_by', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['day_id'], ['consult_days.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['queue_item_id'], ['queue_items.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day_id', 'queue_item_id', name='uq_consult_agenda_day_item')
    )
    op.create_index('ix_consult_agenda_items_day_id', 'consult_agenda_items', ['day_id'])
    op.create_index('ix_consult_agenda_items_queue_item_id', 'consult_agenda_items', ['queue_item_id'])
    op.create_table('consult_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('contact', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('question_ids', sa.JSON(), nullable=False),
    sa.Column('agenda_item_ids', sa.JSON(), nullable=False),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attended', sa.Boolean(), nullable=False),
    sa.Column('attended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['day_id'], ['consult_days.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day_id', 'key', name='uq_consult_participant_day_key')
    )
    op.create_index('ix_consult_participants_day_id', 'consult_participants', ['day_id'])
    op.create_table('consult_followups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day_id', sa.Integer(), nullable=False),
    sa.Column('agenda_item_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('solved', sa.String(length=10), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('requeued_item_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['day_id'], ['consult_days.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['consult_agenda_items.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['consult_participants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash'),
    sa.UniqueConstraint('agenda_item_id', 'participant_id', name='uq_consult_followup_item_part')
    )
    op.create_index('ix_consult_followups_day_id', 'consult_followups', ['day_id'])
    op.create_index('ix_consult_followups_agenda_item_id', 'consult_followups', ['agenda_item_id'])


def downgrade() -> None:
    op.drop_table('consult_followups')
    op.drop_table('consult_participants')
    op.drop_table('consult_agenda_items')
    op.drop_table('consult_days')
    with op.batch_alter_table('queue_items') as batch:
        batch.drop_column('reopened_from')
