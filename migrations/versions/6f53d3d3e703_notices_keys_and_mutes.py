"""notices told once: a unique key per (event, person) on in-app notices; campaign mutes

Existing notices keep a NULL key (each was told once by the change that wrote it).

Revision ID: 6f53d3d3e703
Revises: b3d5f7a9c1e2
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6f53d3d3e703'
down_revision = 'b3d5f7a9c1e2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payout_notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=120), nullable=True))
        batch_op.create_index('ix_payout_notices_dedupe_key', ['dedupe_key'], unique=True)
    op.create_table('campaign_mutes',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                            name=op.f('fk_campaign_mutes_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_campaign_mutes_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'campaign_id', name=op.f('pk_campaign_mutes'))
    )


def downgrade():
    op.drop_table('campaign_mutes')
    with op.batch_alter_table('payout_notices', schema=None) as batch_op:
        batch_op.drop_index('ix_payout_notices_dedupe_key')
        batch_op.drop_column('dedupe_key')
