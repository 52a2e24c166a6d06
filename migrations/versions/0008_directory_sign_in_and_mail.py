"""Directory sign-in and e-mail notifications (issue 17)

Users get their directory name (for those who sign in with the company's directory), when the
directory was last seen to have disabled them, and their choice of approval mail. Outgoing
mail waits in outgoing_mail until the background worker sends it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs and a unique index: a batch would rebuild `users` on SQLite, which every
    # other table refers to.
    op.add_column('users', sa.Column('directory_name', sa.String(length=254), nullable=True))
    op.add_column('users', sa.Column('directory_disabled_at', sa.DateTime(), nullable=True))
    op.add_column('users', sa.Column(
        'approval_mail', sa.String(length=10), nullable=False, server_default='immediate'
    ))
    op.create_index('ix_users_directory_name', 'users', ['directory_name'], unique=True)
    op.create_table(
        'outgoing_mail',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('event_key', sa.String(length=120), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.Column('detail', sa.String(length=1000), nullable=False),
        sa.Column('actor_name', sa.String(length=120), nullable=False),
        sa.Column('digest', sa.Boolean(), nullable=False),
        sa.Column('state', sa.String(length=14), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id']),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id']),
        sa.ForeignKeyConstraint(['recipient_id'], ['users.id']),
        sa.ForeignKeyConstraint(['request_id'], ['cost_code_update_requests.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_key', 'recipient_id', name='uq_outgoing_mail_event_recipient'),
    )
    op.create_index('ix_outgoing_mail_due', 'outgoing_mail', ['state', 'next_attempt_at'])
    op.create_index('ix_outgoing_mail_company_state', 'outgoing_mail', ['company_id', 'state'])


def downgrade():
    op.drop_index('ix_outgoing_mail_company_state', table_name='outgoing_mail')
    op.drop_index('ix_outgoing_mail_due', table_name='outgoing_mail')
    op.drop_table('outgoing_mail')
    op.drop_index('ix_users_directory_name', table_name='users')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('approval_mail')
        batch.drop_column('directory_disabled_at')
        batch.drop_column('directory_name')
