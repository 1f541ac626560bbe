"""payment channel fees

Revision ID: c3a9e1f0b2d4
Revises: db6db014f107
Create Date: 2026-11-28 20:53:20

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a9e1f0b2d4'
down_revision = 'db6db014f107'
branch_labels = None
depends_on = None


def upgrade():
    # Orders made before fees were recorded carry none (rate 0, fee 0): their ledger has no fee.
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel_fee_bp', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('channel_fee_fen', sa.BigInteger(), server_default='0',
                                      nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_payments_channel_fee_in_range'),
            'channel_fee_fen >= 0 AND channel_fee_fen <= amount_fen')
    with op.batch_alter_table('payout_donation_refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel_fee_returned_fen', sa.BigInteger(),
                                      server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('payout_donation_refunds', schema=None) as batch_op:
        batch_op.drop_column('channel_fee_returned_fen')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_payments_channel_fee_in_range'), type_='check')
        batch_op.drop_column('channel_fee_fen')
        batch_op.drop_column('channel_fee_bp')
