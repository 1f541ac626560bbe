"""payment channel fees

Revision ID: c3a9e1f0b2d4
Revises: db6db014f107
Create Date: 2026-11-28 21:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a9e1f0b2d4'
down_revision = 'db6db014f107'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
