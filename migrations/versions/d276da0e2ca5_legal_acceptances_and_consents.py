"""用户协议 / 隐私政策 acceptances by version, and withdrawals of consent to optional processing

Revision ID: d276da0e2ca5
Revises: e3a5c7f9b1d2
Create Date: 2026-12-03 13:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd276da0e2ca5'
down_revision = 'e3a5c7f9b1d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'legal_acceptances',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('document', sa.String(length=16), nullable=False),
        sa.Column('version', sa.String(length=16), nullable=False),
        sa.Column('via', sa.String(length=16), nullable=False),
        sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_legal_acceptances_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_acceptances')),
        sa.UniqueConstraint('user_id', 'document', 'version',
                            name=op.f('uq_legal_acceptances_user_id_document_version')),
    )
    with op.batch_alter_table('legal_acceptances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_acceptances_user_id'), ['user_id'],
                              unique=False)
    op.create_table(
        'consent_withdrawals',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=32), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_consent_withdrawals_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', 'purpose', name=op.f('pk_consent_withdrawals')),
    )


def downgrade():
    op.drop_table('consent_withdrawals')
    with op.batch_alter_table('legal_acceptances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_acceptances_user_id'))
    op.drop_table('legal_acceptances')
