"""wallet removed: paybacks to members, refund items and overpaid batches paid back directly

The plan no longer keeps a prepaid wallet (后付费). Data conversion:
- a refund item's money already distributed was paid into the member's wallet: that part is
  recorded as `to_wallet_fen` (returned with the wallet); what later rounds distribute is paid
  back directly;
- share batches keep `to_wallet_fen` (surpluses that went to wallets) beside the new
  `overpaid_fen` (refunded directly);
- wallet refunds waiting for finance's bank transfer and voucher stay `requested` here: the
  payback job puts each back into its wallet by a ledger posting (the ledger is written only
  by the application) and returns the balance by WeChat refund or 商家转账.
The wallet and top-up tables are kept: they are the history the ledger's postings refer to.

Revision ID: b3d5f7a9c1e2
Revises: 247105d9c0b4
Create Date: 2026-12-04 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3d5f7a9c1e2'
down_revision = '247105d9c0b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mutual_aid_paybacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('from_account', sa.String(length=64), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('out_refund_no', sa.String(length=64), nullable=True),
    sa.Column('fee_returned_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('sending', 'paid', 'failed', 'owed', 'superseded',
                                name='paybackstatus', native_enum=False, length=16),
              nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'],
                            name=op.f('fk_mutual_aid_paybacks_payment_id_payments')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_mutual_aid_paybacks_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mutual_aid_paybacks')),
    sa.UniqueConstraint('out_refund_no', name=op.f('uq_mutual_aid_paybacks_out_refund_no'))
    )
    with op.batch_alter_table('mutual_aid_paybacks', schema=None) as batch_op:
        batch_op.create_index('ix_mutual_aid_paybacks_subject', ['subject', 'subject_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_mutual_aid_paybacks_payment_id'), ['payment_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_mutual_aid_paybacks_user_id'), ['user_id'],
                              unique=False)
    with op.batch_alter_table('mutual_aid_round_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('to_wallet_fen', sa.BigInteger(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('mutual_aid_share_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('overpaid_fen', sa.BigInteger(), server_default='0',
                                      nullable=False))
    op.execute("UPDATE mutual_aid_round_items SET to_wallet_fen = distributed_fen "
               "WHERE kind = 'refund'")


def downgrade():
    with op.batch_alter_table('mutual_aid_share_batches', schema=None) as batch_op:
        batch_op.drop_column('overpaid_fen')
    with op.batch_alter_table('mutual_aid_round_items', schema=None) as batch_op:
        batch_op.drop_column('to_wallet_fen')
    with op.batch_alter_table('mutual_aid_paybacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mutual_aid_paybacks_user_id'))
        batch_op.drop_index(batch_op.f('ix_mutual_aid_paybacks_payment_id'))
        batch_op.drop_index('ix_mutual_aid_paybacks_subject')
    op.drop_table('mutual_aid_paybacks')
