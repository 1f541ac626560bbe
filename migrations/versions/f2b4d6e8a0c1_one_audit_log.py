"""one audit log: the plan's own audit table merges into audit_entries

Revision ID: f2b4d6e8a0c1
Revises: e8f0a2c4d6b8
Create Date: 2026-12-02 13:45:36

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2b4d6e8a0c1'
down_revision = 'e8f0a2c4d6b8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_audit_entries_actor_user_id_users'),
                                    'users', ['actor_user_id'], ['id'])
        batch_op.create_index('ix_audit_entries_target', ['target_type', 'target_id'],
                              unique=False)
    # Staff decisions of the plan were already written to both tables (as mutual_aid.<action>);
    # members' and the system's were only in the plan's table, so those are carried over.
    op.execute("""
        INSERT INTO audit_entries (actor_staff_id, actor_user_id, actor_name, action,
                                   target_type, target_id, reason, created_at)
        SELECT NULL, actor_user_id,
               CASE WHEN actor_user_id IS NULL THEN '系统' ELSE '会员本人' END,
               'mutual_aid.' || action, SUBSTR('mutual_aid_' || subject_type, 1, 32),
               subject_id, reason, created_at
        FROM mutual_aid_audit WHERE actor_staff_id IS NULL ORDER BY id
    """)
    with op.batch_alter_table('mutual_aid_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_mutual_aid_audit_subject')
    op.drop_table('mutual_aid_audit')


def downgrade():
    op.create_table('mutual_aid_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_staff_id', sa.Integer(), nullable=True),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('subject_type', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_staff_id'], ['staff_accounts.id'], name=op.f('fk_mutual_aid_audit_actor_staff_id_staff_accounts')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_mutual_aid_audit_actor_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mutual_aid_audit'))
    )
    with op.batch_alter_table('mutual_aid_audit', schema=None) as batch_op:
        batch_op.create_index('ix_mutual_aid_audit_subject', ['subject_type', 'subject_id'], unique=False)
    op.execute("""
        INSERT INTO mutual_aid_audit (actor_staff_id, actor_user_id, action, subject_type,
                                      subject_id, reason, created_at)
        SELECT actor_staff_id, actor_user_id, SUBSTR(action, 12, 40),
               SUBSTR(target_type, 12, 20), target_id, SUBSTR(reason, 1, 500), created_at
        FROM audit_entries WHERE action LIKE 'mutual~_aid.%' ESCAPE '~' ORDER BY id
    """)
    op.execute("DELETE FROM audit_entries WHERE actor_staff_id IS NULL "
               "AND action LIKE 'mutual~_aid.%' ESCAPE '~'")
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_target')
        batch_op.drop_constraint(batch_op.f('fk_audit_entries_actor_user_id_users'),
                                 type_='foreignkey')
        batch_op.drop_column('actor_user_id')
