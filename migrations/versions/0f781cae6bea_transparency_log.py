"""transparency log: leaves, tree nodes, signed checkpoints, cosignatures and the state row the
integrator locks (app/transparency, docs/transparency.md)

Revision ID: 0f781cae6bea
Revises: d276da0e2ca5
Create Date: 2026-12-03 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0f781cae6bea'
down_revision = 'd276da0e2ca5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('transparency_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('tree_size', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transparency_state'))
    )
    op.create_table('transparency_leaves',
    sa.Column('index', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('source_type', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.BigInteger(), nullable=False),
    sa.Column('leaf', sa.Text(), nullable=False),
    sa.Column('leaf_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('integrated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('index', name=op.f('pk_transparency_leaves')),
    sa.UniqueConstraint('source_type', 'source_id', name='uq_transparency_leaves_source')
    )
    op.create_table('transparency_nodes',
    sa.Column('level', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('index', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('level', 'index', name=op.f('pk_transparency_nodes'))
    )
    op.create_table('transparency_checkpoints',
    sa.Column('tree_size', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('root_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tree_size', name=op.f('pk_transparency_checkpoints'))
    )
    op.create_table('transparency_cosignatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tree_size', sa.BigInteger(), nullable=False),
    sa.Column('witness', sa.String(length=200), nullable=False),
    sa.Column('signature_line', sa.Text(), nullable=False),
    sa.Column('cosigned_at', sa.BigInteger(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tree_size'], ['transparency_checkpoints.tree_size'], name=op.f('fk_transparency_cosignatures_tree_size_transparency_checkpoints')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transparency_cosignatures')),
    sa.UniqueConstraint('tree_size', 'witness', name='uq_transparency_cosignatures_witness')
    )
    with op.batch_alter_table('transparency_cosignatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transparency_cosignatures_tree_size'), ['tree_size'], unique=False)


def downgrade():
    with op.batch_alter_table('transparency_cosignatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transparency_cosignatures_tree_size'))
    op.drop_table('transparency_cosignatures')
    op.drop_table('transparency_checkpoints')
    op.drop_table('transparency_nodes')
    op.drop_table('transparency_leaves')
    op.drop_table('transparency_state')
