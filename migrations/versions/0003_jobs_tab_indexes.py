"""The Jobs tab reads Failed to Export and the Ready to Update page from indexes

Failed to Export counts the projects with a link error from a partial index that holds only
them, instead of testing every project of the company (ix_projects_job_filters loses the
message column, which only that old test read); Ready to Update reads its page of 50 in order
from the (company, status) index, now extended with the order columns; Ready to Import counts
the unlinked ERP jobs from an index instead of reading every ERP job of the company.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 08:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

LINK_ERROR_CONDITION = "erp_link_message IS NOT NULL AND erp_link_message != ''"


def upgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        # Without the message: nothing needs it there now, and a covering index on the company
        # would otherwise tie with the partial one in SQLite's planner.
        batch_op.drop_index('ix_projects_job_filters')
        batch_op.create_index(
            'ix_projects_job_filters', ['company_id', 'archived', 'erp_link_state'], unique=False
        )
        batch_op.create_index(
            'ix_projects_link_error',
            ['company_id', 'erp_link_state', 'erp_link_message'],
            unique=False,
            sqlite_where=sa.text(LINK_ERROR_CONDITION),
            postgresql_where=sa.text(LINK_ERROR_CONDITION),
        )
    with op.batch_alter_table('cost_code_update_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_cost_code_update_requests_company_status')
        batch_op.create_index(
            'ix_cost_code_update_requests_company_status',
            ['company_id', 'status', 'requested_at', 'id'],
            unique=False,
        )
    with op.batch_alter_table('erp_jobs', schema=None) as batch_op:
        batch_op.create_index(
            'ix_erp_jobs_ready_to_import', ['company_id', 'project_id', 'hidden'], unique=False
        )


def downgrade():
    with op.batch_alter_table('erp_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_erp_jobs_ready_to_import')
    with op.batch_alter_table('cost_code_update_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_cost_code_update_requests_company_status')
        batch_op.create_index(
            'ix_cost_code_update_requests_company_status', ['company_id', 'status'], unique=False
        )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_projects_link_error',
            sqlite_where=sa.text(LINK_ERROR_CONDITION),
            postgresql_where=sa.text(LINK_ERROR_CONDITION),
        )
        batch_op.drop_index('ix_projects_job_filters')
        batch_op.create_index(
            'ix_projects_job_filters',
            ['company_id', 'archived', 'erp_link_state', 'erp_link_message'],
            unique=False,
        )
