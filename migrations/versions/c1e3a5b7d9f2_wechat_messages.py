"""wechat messages: template messages owed to people, each sent once

Revision ID: c1e3a5b7d9f2
Revises: b8d0f2a4c6e9
Create Date: 2026-12-02 20:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c1e3a5b7d9f2'
down_revision = 'b8d0f2a4c6e9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('wechat_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=120), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('template', sa.String(length=32), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('url', sa.String(length=300), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', 'skipped', name='messagestatus', native_enum=False, length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('msgid', sa.String(length=32), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_messages')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_wechat_messages_dedupe_key'))
    )
    with op.batch_alter_table('wechat_messages', schema=None) as batch_op:
        batch_op.create_index('ix_wechat_messages_status', ['status', 'updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('wechat_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_wechat_messages_status')
    op.drop_table('wechat_messages')
