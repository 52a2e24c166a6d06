"""Company time zone: the zone every screen, message and CSV shows times in

Times stay stored in UTC; the company's zone (an IANA name such as America/Chicago) only
changes how they are shown. Existing companies keep showing UTC until an admin sets it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: a batch would rebuild `companies` on SQLite, which other tables refer to.
    op.add_column(
        'companies', sa.Column('time_zone', sa.String(length=64), nullable=False, server_default='UTC')
    )


def downgrade():
    with op.batch_alter_table('companies') as batch_op:
        batch_op.drop_column('time_zone')
