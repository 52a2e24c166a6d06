"""Indexes for listing cost codes in the ERP's order

Codes are listed shorter before longer, then as text (formats.in_code_order), which is a
Sage 100 Contractor code's numeric order: 2010.000 before 10010.000. These indexes keep the
project Cost Code table and the ERP Standard Cost Codes list paging from an index instead of
sorting every code of the project or the company on each page.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 11:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_project_cost_codes_code_order', 'project_cost_codes',
        ['project_id', sa.text('length(code)'), 'code'], unique=False,
    )
    op.create_index(
        'ix_standard_cost_codes_code_order', 'standard_cost_codes',
        ['company_id', sa.text('length(code)'), 'code'], unique=False,
    )


def downgrade():
    op.drop_index('ix_standard_cost_codes_code_order', table_name='standard_cost_codes')
    op.drop_index('ix_project_cost_codes_code_order', table_name='project_cost_codes')
