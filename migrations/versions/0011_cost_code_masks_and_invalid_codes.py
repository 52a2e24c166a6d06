"""Sage 300 CRE cost code masks, the Sage 100 Contractor import file type, invalid stored codes

A Sage 300 CRE company's codes must fit its cost code mask (companies.cost_code_mask, set in
Company Admin until the connector reads it from the ERP); a Sage 100 Contractor company chooses
the import file type its file connector writes (companies.sage100_file_type). Stored codes that
Sage's published limits no longer allow are kept and marked with the reason
(standard_cost_codes.invalid_reason), never dropped: for Sage 300 CRE a code over 12 characters or
4 sections, or a description over 30 characters (see portal/erp/formats.py for the sources). No
mask is known yet at this point, so the mask itself is checked when an admin sets it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 17:30:00

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# The rules as they stand at this revision, written out: a migration must not change its
# meaning when portal/erp/formats.py later does.
SAGE300_MAX_CODE_LENGTH = 12
SAGE300_MAX_SECTIONS = 4
SAGE300_DESCRIPTION_LIMIT = 30


def _reason(code: str, description: str) -> str | None:
    sections = len(re.split(r"[/.\-]", code))
    if len(code) > SAGE300_MAX_CODE_LENGTH:
        return (
            f'Cost code "{code}" is {len(code)} characters long; Sage 300 CRE allows at most '
            f"{SAGE300_MAX_CODE_LENGTH}."
        )
    if sections > SAGE300_MAX_SECTIONS:
        return (
            f'Cost code "{code}" has {sections} sections; Sage 300 CRE allows at most '
            f"{SAGE300_MAX_SECTIONS}."
        )
    if len(description) > SAGE300_DESCRIPTION_LIMIT:
        return (
            f'Description "{description[:39]}" is {len(description)} characters long; Sage 300 CRE '
            f"allows at most {SAGE300_DESCRIPTION_LIMIT}."
        )
    return None


def upgrade():
    # Plain ADD COLUMNs: a batch would rebuild `companies` and `standard_cost_codes` on SQLite,
    # which other tables refer to.
    op.add_column('companies', sa.Column('cost_code_mask', sa.String(length=20), nullable=True))
    op.add_column('companies', sa.Column(
        'sage100_file_type', sa.String(length=3), nullable=False, server_default='tab'
    ))
    op.add_column('standard_cost_codes', sa.Column('invalid_reason', sa.String(length=500), nullable=True))

    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT s.id, s.code, s.description FROM standard_cost_codes s "
        "JOIN companies c ON c.id = s.company_id WHERE c.erp_system = 'sage300cre'"
    )).all()
    for code_id, code, description in rows:
        reason = _reason(code, description)
        if reason is not None:
            connection.execute(
                sa.text("UPDATE standard_cost_codes SET invalid_reason = :reason WHERE id = :id"),
                {"reason": reason, "id": code_id},
            )


def downgrade():
    with op.batch_alter_table('standard_cost_codes') as batch:
        batch.drop_column('invalid_reason')
    with op.batch_alter_table('companies') as batch:
        batch.drop_column('sage100_file_type')
        batch.drop_column('cost_code_mask')
