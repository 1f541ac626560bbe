"""a live campaign changed by its organizer: changes waiting for review (修改, 追加目标), the
per-campaign lift of the target cap, and the organizer's early end

Revision ID: e76ed30ddc20
Revises: 5e1c9a7d3b20
Create Date: 2026-12-03 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e76ed30ddc20'
down_revision = '5e1c9a7d3b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'campaign_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('organizer_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('edit', 'target', name='changekind', native_enum=False,
                                  length=16), nullable=False),
        sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='changestatus',
                                    native_enum=False, length=16), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('before', sa.JSON(), nullable=False),
        sa.Column('after', sa.JSON(), nullable=False),
        sa.Column('document_ids', sa.JSON(), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decision_note', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id']),
        sa.ForeignKeyConstraint(['organizer_id'], ['users.id']),
        sa.ForeignKeyConstraint(['decided_by_id'], ['staff_accounts.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_campaign_changes_campaign_status', 'campaign_changes',
                    ['campaign_id', 'status'], unique=False)
    op.create_table(
        'campaign_target_caps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('cap_fen', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id']),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_accounts.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_campaign_target_caps_campaign_id', 'campaign_target_caps',
                    ['campaign_id'], unique=False)
    op.create_table(
        'campaign_early_ends',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('organizer_id', sa.Integer(), nullable=False),
        sa.Column('reason_kind', sa.Enum('recovered', 'enough', 'stopped', 'passed', 'other',
                                         name='endreason', native_enum=False, length=16),
                  nullable=False),
        sa.Column('note', sa.String(length=300), nullable=False),
        sa.Column('route', sa.Enum('withdraw', 'refund', name='leftoverroute',
                                   native_enum=False, length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id']),
        sa.ForeignKeyConstraint(['organizer_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('campaign_id'))


def downgrade():
    op.drop_table('campaign_early_ends')
    op.drop_index('ix_campaign_target_caps_campaign_id', table_name='campaign_target_caps')
    op.drop_table('campaign_target_caps')
    op.drop_index('ix_campaign_changes_campaign_status', table_name='campaign_changes')
    op.drop_table('campaign_changes')
