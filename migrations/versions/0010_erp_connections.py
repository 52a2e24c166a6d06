"""A company's ERP connector and its settings, chosen on Company Admin → ERP settings

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 17:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'erp_connections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('settings', sa.JSON(), nullable=False),
        sa.Column('secret', sa.String(length=500), nullable=False),
        sa.Column('writes_enabled', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('company_id'),
    )


def downgrade():
    op.drop_table('erp_connections')
