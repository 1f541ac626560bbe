"""person transfers: 商家转账 to a person's WeChat, one row per payout with its out_bill_no

Revision ID: b8d0f2a4c6e9
Revises: a7c9e1b3d5f7
Create Date: 2026-12-02 14:53:05

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d0f2a4c6e9'
down_revision = 'a7c9e1b3d5f7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payout_person_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('out_bill_no', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('purpose', sa.String(length=24), nullable=False),
    sa.Column('purpose_ref', sa.String(length=32), nullable=False),
    sa.Column('from_account', sa.String(length=64), nullable=False),
    sa.Column('remark', sa.String(length=32), nullable=False),
    sa.Column('status', sa.Enum('created', 'waiting_user', 'transferring', 'succeeded', 'returned', name='transferstatus', native_enum=False, length=16), nullable=False),
    sa.Column('transfer_bill_no', sa.String(length=64), nullable=True),
    sa.Column('wechat_state', sa.String(length=24), nullable=False),
    sa.Column('package_info', sa.String(length=1024), nullable=False),
    sa.Column('fail_reason', sa.String(length=100), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_payout_person_transfers_amount_positive')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_payout_person_transfers_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_person_transfers')),
    sa.UniqueConstraint('out_bill_no', name=op.f('uq_payout_person_transfers_out_bill_no')),
    sa.UniqueConstraint('purpose', 'purpose_ref', name='uq_payout_person_transfers_purpose')
    )
    op.create_index('ix_payout_person_transfers_user_status', 'payout_person_transfers', ['user_id', 'status'], unique=False)


def downgrade():
    op.drop_index('ix_payout_person_transfers_user_status', table_name='payout_person_transfers')
    op.drop_table('payout_person_transfers')
