"""indexes for growth

Revision ID: e8f0a2c4d6b8
Revises: d5b7f2a4c6e8
Create Date: 2026-11-28 21:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8f0a2c4d6b8'
down_revision = 'd5b7f2a4c6e8'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
