"""失信名单: organizers and patients listed by the blind index of their ID number

Revision ID: 6bbe40e1da6d
Revises: e76ed30ddc20
Create Date: 2026-12-03 14:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6bbe40e1da6d'
down_revision = 'e76ed30ddc20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'blacklist_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('role', sa.Enum('organizer', 'patient', name='listedrole', native_enum=False,
                                  length=16), nullable=False),
        sa.Column('id_index', sa.String(length=64), nullable=True),
        sa.Column('id_masked', sa.String(length=24), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('removed_by_id', sa.Integer(), nullable=True),
        sa.Column('removal_reason', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['added_by_id'], ['staff_accounts.id'],
                                name=op.f('fk_blacklist_entries_added_by_id_staff_accounts')),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_blacklist_entries_campaign_id_campaigns')),
        sa.ForeignKeyConstraint(['removed_by_id'], ['staff_accounts.id'],
                                name=op.f('fk_blacklist_entries_removed_by_id_staff_accounts')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_blacklist_entries_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_blacklist_entries')),
    )
    with op.batch_alter_table('blacklist_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blacklist_entries_id_index'), ['id_index'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_blacklist_entries_user_id'), ['user_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('blacklist_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blacklist_entries_user_id'))
        batch_op.drop_index(batch_op.f('ix_blacklist_entries_id_index'))
    op.drop_table('blacklist_entries')
