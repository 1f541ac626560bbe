"""ledger account totals (cached per custody account and source type)

Revision ID: e8f0a2c4d6b8
Revises: d5b7f2a4c6e8
Create Date: 2026-11-28 20:54:07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8f0a2c4d6b8'
down_revision = 'd5b7f2a4c6e8'
branch_labels = None
depends_on = None


def upgrade():
    # Cached per account and source type (app/ledger/models.py AccountTotal): a campaign's
    # custody balance and its channel fees are read on every campaign page, and summing all of
    # its entries grew with the donations. Filled here from the entries already posted.
    op.create_table('ledger_account_totals',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('source_type', sa.String(length=32), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('entry_count', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_account_totals_account_id_ledger_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'source_type', name=op.f('pk_ledger_account_totals'))
    )
    op.execute("""
        INSERT INTO ledger_account_totals (account_id, source_type, amount_fen, entry_count)
        SELECT e.account_id, t.source_type, SUM(e.amount_fen), COUNT(*)
        FROM ledger_entries e
        JOIN ledger_transactions t ON t.id = e.transaction_id
        JOIN ledger_accounts a ON a.id = e.account_id
        WHERE a.code LIKE 'campaign:%'
        GROUP BY e.account_id, t.source_type
    """)


def downgrade():
    op.drop_table('ledger_account_totals')
