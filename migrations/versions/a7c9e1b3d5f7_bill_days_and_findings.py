"""bill days and findings: reconciling the ledger against WeChat Pay's daily bills

Revision ID: a7c9e1b3d5f7
Revises: f2b4d6e8a0c1
Create Date: 2026-12-02 14:24:15

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c9e1b3d5f7'
down_revision = 'f2b4d6e8a0c1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bill_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('balanced', 'differences', 'unavailable', name='billdaystatus', native_enum=False, length=16), nullable=False),
    sa.Column('trade_lines', sa.Integer(), nullable=False),
    sa.Column('fund_lines', sa.Integer(), nullable=False),
    sa.Column('ledger_lines', sa.Integer(), nullable=False),
    sa.Column('trade_sha1', sa.String(length=40), nullable=False),
    sa.Column('fundflow_sha1', sa.String(length=40), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('first_checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_days')),
    sa.UniqueConstraint('bill_date', name=op.f('uq_bill_days_bill_date'))
    )
    op.create_table('bill_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_day_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('missing_in_ledger', 'missing_in_bill', 'amount_differs', 'fee_differs', 'duplicate_in_bill', 'duplicate_in_ledger', 'bad_hash', 'bad_file', 'bad_summary', name='findingkind', native_enum=False, length=24), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=False),
    sa.Column('line_kind', sa.String(length=16), nullable=False),
    sa.Column('bill_fen', sa.BigInteger(), nullable=True),
    sa.Column('ledger_fen', sa.BigInteger(), nullable=True),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bill_day_id'], ['bill_days.id'], name=op.f('fk_bill_findings_bill_day_id_bill_days')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_findings')),
    sa.UniqueConstraint('bill_day_id', 'kind', 'line_kind', 'ref', name='uq_bill_finding')
    )


def downgrade():
    op.drop_table('bill_findings')
    op.drop_table('bill_days')
