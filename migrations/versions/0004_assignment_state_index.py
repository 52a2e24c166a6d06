"""Cost type assignments lose their index on erp_state alone

Every query that asks for assignments in a state also names the project's cost codes; with
that index SQLite read every assignment of every company in the state ("exported": nearly all
of them) to find one request's, instead of going from the codes: the Cost Codes for Update
window took 52 ms instead of 15 ms with 194,000 exported assignments (make bench).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 08:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cost_type_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_cost_type_assignments_erp_state')


def downgrade():
    with op.batch_alter_table('cost_type_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_cost_type_assignments_erp_state', ['erp_state'], unique=False)
