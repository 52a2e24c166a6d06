"""Differences between projects and their ERP jobs: the ERP jobs' codes as last read, and the
differences found (issue 18)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 21:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'erp_comparisons',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('compared_at', sa.DateTime(), nullable=True),
        sa.Column('unreadable', sa.String(length=500), nullable=True),
        sa.Column('cost_types_compared', sa.Boolean(), nullable=False),
        sa.Column('jobs_compared', sa.Integer(), nullable=False),
        sa.Column('job_problems', sa.JSON(), nullable=False),
        sa.Column('failed_at', sa.DateTime(), nullable=True),
        sa.Column('failure', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('company_id'),
    )
    op.create_table(
        'erp_job_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('job_number', sa.String(length=40), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=False),
        sa.Column('cost_types', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('company_id', 'job_number', 'code'),
    )
    op.create_table(
        'erp_job_reads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('job_number', sa.String(length=40), nullable=False),
        sa.Column('problem', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('company_id', 'job_number'),
    )
    op.create_table(
        'erp_differences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('job_number', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('project_description', sa.String(length=255), nullable=True),
        sa.Column('erp_description', sa.String(length=255), nullable=True),
        sa.Column('erp_cost_types', sa.String(length=200), nullable=True),
        sa.Column('found_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id']),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_erp_differences_company_kind', 'erp_differences',
                    ['company_id', 'kind', 'job_number', 'code'])
    op.create_index(op.f('ix_erp_differences_project_id'), 'erp_differences', ['project_id'])


def downgrade():
    op.drop_index(op.f('ix_erp_differences_project_id'), table_name='erp_differences')
    op.drop_index('ix_erp_differences_company_kind', table_name='erp_differences')
    op.drop_table('erp_differences')
    op.drop_table('erp_job_reads')
    op.drop_table('erp_job_codes')
    op.drop_table('erp_comparisons')
