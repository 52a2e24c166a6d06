"""Log-in sessions kept on the server, and the flag a password reset sets

A session lasts while its login_sessions row exists: log-out deletes the row, so a copied
cookie opens nothing afterwards, and changing one's password deletes every other row of the
user. users.must_change_password is set by an admin's Reset password: the temporary password
only lets its holder choose a new one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_sessions_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_sessions_user_id'), ['user_id'], unique=False)
    # A plain ADD COLUMN: a batch would rebuild `users` on SQLite, which every other table refers to.
    op.add_column(
        'users', sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_login_sessions_started_at'))
    op.drop_table('login_sessions')
