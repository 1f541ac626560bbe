"""deferred jobs outbox

Revision ID: d5b7f2a4c6e8
Revises: c3a9e1f0b2d4
Create Date: 2026-11-28 21:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5b7f2a4c6e8'
down_revision = 'c3a9e1f0b2d4'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
