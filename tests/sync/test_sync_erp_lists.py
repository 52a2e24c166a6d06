"""Sage 100 Contractor divisions and cost types come from the ERP (issue 15, item 2)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import select

from portal.erp import sage100_database as sage
from portal.erp.connectors import connector_for
from portal.extensions import db
from portal.models import StandardCostCode
from portal.services.sync import run_company_sync
from tests.helpers import company_by_slug, first_project, waiting_request, window_url


def sync(app, slug="ridgeline"):
    company = company_by_slug(slug)
    return run_company_sync(db.session, company.id, connector=connector_for(company, app.config))


def sage_tables(erp, slug="ridgeline"):
    return erp.connector(slug)._engine.begin()


def stored(code: str) -> StandardCostCode | None:
    return db.session.scalar(select(StandardCostCode).where(StandardCostCode.code == code))


def test_a_code_whose_division_sage_lacks_is_listed_as_invalid(app, erp):
    with sage_tables(erp) as conn:
        conn.execute(sage.cstcde.insert().values(recnum=99010, cdenme="Orphan", divnum=99000))
        conn.execute(sage.cstcde.insert().values(recnum=2095, cdenme="Site Signs", divnum=2000))
    run = sync(app)
    reported = {entry["code"]: entry["reason"] for entry in run.invalid_codes}
    assert set(reported) == {"99010.000"}
    assert 'division "99000", which Sage 100 Contractor does not have' in reported["99010.000"]
    assert stored("99010.000") is None
    assert stored("2095.000").division == "2000"


def test_division_names_come_from_the_erp(app, erp):
    with sage_tables(erp) as conn:
        conn.execute(
            sage.cstdiv.update().where(sage.cstdiv.c.recnum == 2000).values(divnme="Sitework (Sage)")
        )
    run = sync(app)
    assert run.status == "succeeded", run.errors
    assert stored("2010.000").division_name == "Sitework (Sage)"


def test_the_nine_cost_types_and_their_names_come_from_the_erp_onto_the_cost_code_table(
    app, erp, client, auth
):
    with sage_tables(erp) as conn:
        conn.execute(sage.csttyp.update().where(sage.csttyp.c.recnum == 6).values(typnme="Permits"))
    run = sync(app)
    assert run.status == "succeeded", run.errors
    company = company_by_slug("ridgeline")
    db.session.refresh(company)
    assert [t.label for t in company.cost_types][5:] == [
        "6 Permits",
        "7 User Def Type 7",
        "8 User Def Type 8",
        "9 User Def Type 9",
    ]
    auth.login_as("pm")
    project = first_project()
    page = client.get(f"/projects/{project.id}/admin/work-breakdown-structure/segments/cost-code/")
    assert page.status_code == 200
    assert "6 Permits" in page.get_data(as_text=True)
    # The Requested Updates window's column headings too.
    auth.login_as("approver")
    window = client.get(window_url(waiting_request()))
    assert window.status_code == 200
    assert '<th scope="col" class="center">6 Permits</th>' in window.get_data(as_text=True)


def test_the_sage100_tables_are_read_with_the_same_sql_on_this_database(app, erp):
    # The connector the reference ERP runs is the customer's: its engine is the only difference.
    connector = erp.connector("ridgeline")
    assert isinstance(connector, sage.Sage100DatabaseConnector)
    with sage_tables(erp) as conn:
        names = set(sa.inspect(conn).get_table_names())
    assert {"cstcde", "cstdiv", "csttyp", "actrec", "bdglin"} <= names
    assert [d.number for d in connector.fetch_divisions()][:2] == ["1000", "2000"]
