"""campaign documents: the SHA-256 of each uploaded file, so the review console can warn when
one file was uploaded for several document kinds

Documents uploaded before this revision keep a NULL hash (they are never flagged).

Revision ID: e3a5c7f9b1d2
Revises: c5e7a9b1d3f6
Create Date: 2026-12-03 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3a5c7f9b1d2'
down_revision = 'c5e7a9b1d3f6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sha256', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_campaign_documents_sha256', ['sha256'], unique=False)


def downgrade():
    with op.batch_alter_table('campaign_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_documents_sha256')
        batch_op.drop_column('sha256')
