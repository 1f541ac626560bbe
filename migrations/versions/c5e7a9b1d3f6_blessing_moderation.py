"""blessings moderated: hidden by the organizer, removed by staff, reported by anyone signed in

Revision ID: c5e7a9b1d3f6
Revises: 6f53d3d3e703
Create Date: 2026-12-03 10:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5e7a9b1d3f6'
down_revision = '6f53d3d3e703'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blessing_hidden_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('blessing_removed_at', sa.DateTime(timezone=True),
                                      nullable=True))
    op.create_table('blessing_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('donation_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['donation_id'], ['donations.id'],
                            name=op.f('fk_blessing_reports_donation_id_donations')),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'],
                            name=op.f('fk_blessing_reports_reporter_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blessing_reports')),
    sa.UniqueConstraint('donation_id', 'reporter_id',
                        name='uq_blessing_reports_donation_id_reporter_id')
    )
    op.create_index('ix_blessing_reports_donation_id', 'blessing_reports', ['donation_id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_blessing_reports_donation_id', table_name='blessing_reports')
    op.drop_table('blessing_reports')
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.drop_column('blessing_removed_at')
        batch_op.drop_column('blessing_hidden_at')
