"""the custodian bank paid by batch file: payouts given to the bank, batches, imported result
and statement files, findings; the stand-in bank's own book; the payee's branch code (联行号)

Revision ID: f4a6c8e0b2d4
Revises: d2f4b6c8e0a3
Create Date: 2026-12-03 09:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4a6c8e0b2d4'
down_revision = 'd2f4b6c8e0a3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bank_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_no', sa.String(length=24), nullable=False),
    sa.Column('format_name', sa.String(length=32), nullable=False),
    sa.Column('status', sa.Enum('built', 'partly_settled', 'settled', name='batchstatus', native_enum=False, length=16), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_enc', sa.Text(), nullable=False),
    sa.Column('built_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['built_by_id'], ['staff_accounts.id'], name=op.f('fk_bank_batches_built_by_id_staff_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_batches')),
    sa.UniqueConstraint('batch_no', name=op.f('uq_bank_batches_batch_no'))
    )
    op.create_table('bank_file_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('result', 'statement', name='filekind', native_enum=False, length=16), nullable=False),
    sa.Column('format_name', sa.String(length=32), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('statement_date', sa.Date(), nullable=True),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('settled', sa.Integer(), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['bank_batches.id'], name=op.f('fk_bank_file_imports_batch_id_bank_batches')),
    sa.ForeignKeyConstraint(['imported_by_id'], ['staff_accounts.id'], name=op.f('fk_bank_file_imports_imported_by_id_staff_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_file_imports')),
    sa.UniqueConstraint('kind', 'file_sha256', name='uq_bank_file_imports_file')
    )
    op.create_table('bank_payout_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('payee_kind', sa.String(length=16), nullable=False),
    sa.Column('account_name_enc', sa.Text(), nullable=False),
    sa.Column('account_number_enc', sa.Text(), nullable=False),
    sa.Column('account_last4', sa.String(length=4), nullable=False),
    sa.Column('bank_name', sa.String(length=100), nullable=False),
    sa.Column('branch_code', sa.String(length=12), nullable=False),
    sa.Column('memo', sa.String(length=100), nullable=False),
    sa.Column('state', sa.Enum('queued', 'in_batch', 'succeeded', 'failed', name='linestate', native_enum=False, length=16), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('bank_ref', sa.String(length=40), nullable=False),
    sa.Column('message', sa.String(length=200), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('bank_date', sa.Date(), nullable=True),
    sa.Column('settled_by_import_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['bank_batches.id'], name=op.f('fk_bank_payout_lines_batch_id_bank_batches')),
    sa.ForeignKeyConstraint(['settled_by_import_id'], ['bank_file_imports.id'], name=op.f('fk_bank_payout_lines_settled_by_import_id_bank_file_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_payout_lines')),
    sa.UniqueConstraint('ref', name=op.f('uq_bank_payout_lines_ref'))
    )
    with op.batch_alter_table('bank_payout_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_payout_lines_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_payout_lines_state'), ['state'], unique=False)
    op.create_table('bank_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('ref', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['bank_file_imports.id'], name=op.f('fk_bank_findings_import_id_bank_file_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_findings'))
    )
    with op.batch_alter_table('bank_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_findings_import_id'), ['import_id'], unique=False)
    op.create_table('standin_bank_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('serial', sa.String(length=32), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('counterparty', sa.String(length=100), nullable=False),
    sa.Column('counter_account', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('message', sa.String(length=100), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standin_bank_entries')),
    sa.UniqueConstraint('ref', name=op.f('uq_standin_bank_entries_ref'))
    )
    with op.batch_alter_table('campaign_payees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('branch_code', sa.String(length=12), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('campaign_payees', schema=None) as batch_op:
        batch_op.drop_column('branch_code')
    op.drop_table('standin_bank_entries')
    with op.batch_alter_table('bank_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_findings_import_id'))
    op.drop_table('bank_findings')
    with op.batch_alter_table('bank_payout_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_payout_lines_state'))
        batch_op.drop_index(batch_op.f('ix_bank_payout_lines_batch_id'))
    op.drop_table('bank_payout_lines')
    op.drop_table('bank_file_imports')
    op.drop_table('bank_batches')
