"""deferred jobs outbox

Revision ID: d5b7f2a4c6e8
Revises: c3a9e1f0b2d4
Create Date: 2026-11-28 20:53:20

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5b7f2a4c6e8'
down_revision = 'c3a9e1f0b2d4'
branch_labels = None
depends_on = None


def upgrade():
    # Jobs waiting for Redis (app/core/outbox.py): written when an enqueue cannot reach it,
    # deleted by the flush that enqueues them.
    op.create_table('deferred_jobs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('func_path', sa.String(length=200), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('kwargs', sa.JSON(), nullable=False),
    sa.Column('queue', sa.String(length=40), nullable=False),
    sa.Column('job_id', sa.String(length=120), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deferred_jobs'))
    )
    with op.batch_alter_table('deferred_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deferred_jobs_job_id'), ['job_id'], unique=False)


def downgrade():
    with op.batch_alter_table('deferred_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deferred_jobs_job_id'))
    op.drop_table('deferred_jobs')
