"""four eyes on payouts: signoffs (one person, one step), withdrawals released by finance

Withdrawals that were `approved` (the transfer in flight, under the old single approval) become
`released`: their approval was the release. The status column is a VARCHAR(16) (a non-native
enum without a CHECK), so the new value needs no DDL.

Revision ID: d2f4b6c8e0a3
Revises: c1e3a5b7d9f2
Create Date: 2026-12-02 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2f4b6c8e0a3'
down_revision = 'c1e3a5b7d9f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payout_signoffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sa.String(length=24), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_accounts.id'], name=op.f('fk_payout_signoffs_staff_id_staff_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_signoffs')),
    sa.UniqueConstraint('subject_type', 'subject_id', 'staff_id', name='uq_payout_signoffs_person'),
    sa.UniqueConstraint('subject_type', 'subject_id', 'step', name='uq_payout_signoffs_step')
    )
    with op.batch_alter_table('payout_withdrawals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('released_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_payout_withdrawals_released_by_id_staff_accounts'), 'staff_accounts', ['released_by_id'], ['id'])
    op.execute("UPDATE payout_withdrawals SET status = 'released', released_by_id = decided_by_id, "
               "released_at = decided_at WHERE status = 'approved'")


def downgrade():
    op.execute("UPDATE payout_withdrawals SET status = 'approved' WHERE status = 'released'")
    with op.batch_alter_table('payout_withdrawals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payout_withdrawals_released_by_id_staff_accounts'), type_='foreignkey')
        batch_op.drop_column('released_at')
        batch_op.drop_column('released_by_id')
    op.drop_table('payout_signoffs')
