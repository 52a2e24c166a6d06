"""The Jobs tab's filter counts read an index instead of every project row

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:45:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index(
            'ix_projects_job_filters',
            ['company_id', 'archived', 'erp_link_state', 'erp_link_message'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_job_filters')
