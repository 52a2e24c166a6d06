"""portal.db.bulk: statements for thousands of rows store exactly what the ORM would."""
from datetime import datetime

from sqlalchemy import select, text

from portal.db.bulk import IDS_PER_STATEMENT, update_rows
from portal.extensions import db
from portal.models import UpdateRequestLine
from portal.services import transaction
from tests.sync.factories import approved_request, project_by_number


def test_update_rows_gives_each_listed_row_the_values_in_the_orms_own_form(app):
    request = approved_request(project_by_number("RB-2401"), [("3010.000", "1"), ("3010.000", "2")])
    first, second = sorted(line.id for line in request.lines)
    when = datetime(2026, 12, 3, 7, 30, 0)  # no microseconds: a form drivers like to shorten
    with transaction(db.session):
        update_rows(
            db.session.connection(), UpdateRequestLine.__table__, [first],
            export_state="exported", export_outcome="created", exported_at=when,
        )
    line = db.session.get(UpdateRequestLine, first)
    assert (line.export_state, line.export_outcome, line.exported_at) == ("exported", "created", when)
    assert db.session.get(UpdateRequestLine, second).export_state == "pending"
    # A row the ORM writes the same way reads back alike, byte for byte in the database.
    db.session.get(UpdateRequestLine, second).exported_at = when
    db.session.commit()
    stored = db.session.execute(
        text("SELECT exported_at FROM update_request_lines WHERE id IN (:a, :b)"), {"a": first, "b": second}
    ).scalars().all()
    assert stored[0] == stored[1]


def test_update_rows_takes_more_ids_than_one_statement_holds(app):
    request = approved_request(project_by_number("RB-2401"), [("3010.000", "1")])
    line_id = request.lines[0].id
    ids = [line_id, *range(10**9, 10**9 + IDS_PER_STATEMENT * 2)]
    with transaction(db.session):
        update_rows(db.session.connection(), UpdateRequestLine.__table__, ids, export_state="failed")
    assert db.session.scalar(
        select(UpdateRequestLine.export_state).where(UpdateRequestLine.id == line_id)
    ) == "failed"
