"""claims paid for real: the claimant's payee (encrypted, verified by finance) and each payout
of a claim's awarded money

Claims a round had distributed to were marked `paid` though nothing reached anyone: their
money went to the payout clearing, which stays as it was (history). The claim statuses
`awarded` (待打款) and `paying` (打款中) are new values of a VARCHAR(16) without a CHECK, so they
need no DDL.

Revision ID: 247105d9c0b4
Revises: f4a6c8e0b2d4
Create Date: 2026-12-03 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '247105d9c0b4'
down_revision = 'f4a6c8e0b2d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mutual_aid_claim_payees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('member', 'hospital', 'wechat', name='payeekind', native_enum=False, length=16), nullable=False),
    sa.Column('account_name_enc', sa.Text(), nullable=False),
    sa.Column('bank_name', sa.String(length=100), nullable=False),
    sa.Column('account_number_enc', sa.Text(), nullable=False),
    sa.Column('account_last4', sa.String(length=4), nullable=False),
    sa.Column('status', sa.Enum('pending', 'verified', 'rejected', name='payeestatus', native_enum=False, length=16), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['mutual_aid_claims.id'], name=op.f('fk_mutual_aid_claim_payees_claim_id_mutual_aid_claims')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['staff_accounts.id'], name=op.f('fk_mutual_aid_claim_payees_verified_by_id_staff_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mutual_aid_claim_payees')),
    sa.UniqueConstraint('claim_id', name=op.f('uq_mutual_aid_claim_payees_claim_id'))
    )
    op.create_table('mutual_aid_claim_payouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('payee_kind', sa.String(length=16), nullable=False),
    sa.Column('payee_last4', sa.String(length=4), nullable=False),
    sa.Column('status', sa.Enum('approved', 'released', 'paid', 'failed', name='payoutstate', native_enum=False, length=16), nullable=False),
    sa.Column('transfer_id', sa.String(length=32), nullable=True),
    sa.Column('custodian_ref', sa.String(length=64), nullable=False),
    sa.Column('failure', sa.String(length=300), nullable=False),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_mutual_aid_claim_payouts_amount_positive')),
    sa.ForeignKeyConstraint(['claim_id'], ['mutual_aid_claims.id'], name=op.f('fk_mutual_aid_claim_payouts_claim_id_mutual_aid_claims')),
    sa.ForeignKeyConstraint(['released_by_id'], ['staff_accounts.id'], name=op.f('fk_mutual_aid_claim_payouts_released_by_id_staff_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mutual_aid_claim_payouts')),
    sa.UniqueConstraint('transfer_id', name=op.f('uq_mutual_aid_claim_payouts_transfer_id'))
    )
    with op.batch_alter_table('mutual_aid_claim_payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mutual_aid_claim_payouts_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index('ix_mutual_aid_claim_payouts_status', ['status'], unique=False)
        batch_op.create_index('uq_mutual_aid_claim_payouts_open', ['claim_id'], unique=True,
                              sqlite_where=sa.text("status IN ('approved', 'released')"),
                              postgresql_where=sa.text("status IN ('approved', 'released')"))


def downgrade():
    with op.batch_alter_table('mutual_aid_claim_payouts', schema=None) as batch_op:
        batch_op.drop_index('uq_mutual_aid_claim_payouts_open')
        batch_op.drop_index('ix_mutual_aid_claim_payouts_status')
        batch_op.drop_index(batch_op.f('ix_mutual_aid_claim_payouts_claim_id'))
    op.drop_table('mutual_aid_claim_payouts')
    op.drop_table('mutual_aid_claim_payees')
