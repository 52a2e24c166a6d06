"""Portal marks: the background worker's heartbeat and the last backup's time

/healthz and Company Admin's Portal status read them from the database, so every web worker
(on any machine) reports the same state.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 17:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'portal_marks',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade():
    op.drop_table('portal_marks')
