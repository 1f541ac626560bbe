"""campaign form: the pending-photo store, photos uploaded before the campaign exists so a
refused submission keeps them

Revision ID: 5e1c9a7d3b20
Revises: 0f781cae6bea
Create Date: 2026-12-03 14:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1c9a7d3b20'
down_revision = '0f781cae6bea'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'campaign_pending_photos',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organizer_id', sa.Integer(), nullable=False),
        sa.Column('storage_key', sa.String(length=64), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organizer_id'], ['users.id'],
                                name=op.f('fk_campaign_pending_photos_organizer_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_pending_photos')),
        sa.UniqueConstraint('storage_key', name=op.f('uq_campaign_pending_photos_storage_key')),
    )
    with op.batch_alter_table('campaign_pending_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_pending_photos_organizer_id'),
                              ['organizer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_pending_photos_created_at'),
                              ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('campaign_pending_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_pending_photos_created_at'))
        batch_op.drop_index(batch_op.f('ix_campaign_pending_photos_organizer_id'))
    op.drop_table('campaign_pending_photos')
