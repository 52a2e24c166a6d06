"""Comparing projects with their ERP jobs: each kind of difference, on each ERP, read through
the company's connector; and a connector that cannot read a job's codes says so."""
from __future__ import annotations

from sqlalchemy import select

from portal.erp.base import ErpError
from portal.erp.connectors import connector_for
from portal.extensions import db
from portal.models import ErpComparison, ErpDifference, ProjectCostCode
from tests.differences.helpers import (
    add_project_code,
    compare,
    difference,
    differences,
    project,
    put_on_job,
    standard_code_not_on,
)
from tests.helpers import company_by_slug


def test_the_demo_projects_match_their_erp_jobs(app, erp):
    for slug in ("ridgeline", "harbor-point"):
        comparison = compare(app, slug)
        assert comparison.compared_at is not None and comparison.unreadable is None
        assert comparison.jobs_compared > 0 and comparison.job_problems == []
    assert db.session.scalar(select(ErpDifference.id)) is None


def test_a_code_on_the_project_the_erp_job_lacks_unless_it_waits_for_approval(app, erp):
    rb = project("RB-2401")
    add_project_code(rb, "9910.000", "Portal only", {"1": "new"})
    add_project_code(rb, "9920.000", "Waiting", {"1": "requested"})
    add_project_code(rb, "9930.000", "Approved, not yet exported", {"2": "approved"})
    add_project_code(rb, "9940.000", "Exported, since lost by the job", {"2": "exported"})
    compare(app, "ridgeline")
    assert differences(rb) == {("missing_in_erp", "9910.000"), ("missing_in_erp", "9940.000")}
    row = difference(rb, "missing_in_erp", "9910.000")
    assert (row.job_number, row.project_description, row.erp_description) == ("2401", "Portal only", None)


def test_a_code_on_the_erp_job_the_project_lacks(app, erp):
    rb = project("RB-2402")
    standard = standard_code_not_on(rb)
    put_on_job(erp, "ridgeline", "2402", standard.code, standard.description, "1")
    compare(app, "ridgeline")
    assert differences(rb) == {("missing_in_project", standard.code)}
    row = difference(rb, "missing_in_project", standard.code)
    assert row.erp_description == standard.description
    # Sage 100 Contractor keeps no cost type on a budget line: none is claimed.
    assert row.erp_cost_types is None


def test_a_code_whose_descriptions_differ(app, erp):
    rb = project("RB-2401")
    code = db.session.scalar(
        select(ProjectCostCode).where(ProjectCostCode.project_id == rb.id).order_by(ProjectCostCode.code)
    )
    erp_text = code.description
    code.description = "Portal wording"
    db.session.commit()
    compare(app, "ridgeline")
    assert differences(rb) == {("description", code.code)}
    row = difference(rb, "description", code.code)
    assert (row.project_description, row.erp_description) == ("Portal wording", erp_text)


def test_sage100_cost_types_are_not_compared_and_the_comparison_says_so(app, erp):
    rb = project("RB-2401")
    code = db.session.scalar(
        select(ProjectCostCode).where(ProjectCostCode.project_id == rb.id).order_by(ProjectCostCode.code)
    )
    comparison = compare(app, "ridgeline")
    assert comparison.cost_types_compared is False
    assert not any(kind == "cost_types" for kind, _code in differences(rb)), code.code


def test_sage300_codes_whose_cost_types_differ_both_ways(app, erp):
    hp = project("HP-301")
    codes = db.session.scalars(
        select(ProjectCostCode).where(ProjectCostCode.project_id == hp.id).order_by(ProjectCostCode.code)
    ).all()
    first, second, third = codes[0], codes[1], codes[2]
    on_first = {a.cost_type.code for a in first.assignments}
    # The project has a cost type the job lacks (exported: the job lost it).
    extra = next(t for t in ("LAB", "MAT", "SUB", "EQP", "OTH") if t not in on_first)
    add_types(first, {extra: "exported"})
    # The job has a category the project's code lacks.
    on_second = {a.cost_type.code for a in second.assignments}
    erp_extra = next(t for t in ("LAB", "MAT", "SUB", "EQP", "OTH") if t not in on_second)
    put_on_job(erp, "harbor-point", "23-0301", second.code, second.description, erp_extra)
    # A cost type waiting for approval is not a difference yet.
    on_third = {a.cost_type.code for a in third.assignments}
    add_types(third, {next(t for t in ("LAB", "MAT", "SUB", "EQP", "OTH") if t not in on_third): "requested"})
    comparison = compare(app, "harbor-point")
    assert comparison.cost_types_compared is True
    assert differences(hp) == {("cost_types", first.code), ("cost_types", second.code)}
    assert erp_extra in difference(hp, "cost_types", second.code).erp_cost_types.split(",")


def add_types(cost_code, types):
    from portal.models import CostType, CostTypeAssignment

    for type_code, state in types.items():
        cost_type = db.session.scalar(
            select(CostType).where(
                CostType.company_id == cost_code.project.company_id, CostType.code == type_code
            )
        )
        cost_code.assignments.append(CostTypeAssignment(cost_type=cost_type, erp_state=state))
    db.session.commit()


def test_a_job_the_erp_lacks_is_named_and_its_project_left_out(app, erp):
    rb = project("RB-2403")
    rb.erp_job_number = "9999"
    db.session.commit()
    add_project_code(rb, "9910.000", "Portal only", {"1": "new"})
    comparison = compare(app, "ridgeline")
    assert [problem["job"] for problem in comparison.job_problems] == ["9999"]
    assert "9999" in comparison.job_problems[0]["message"]
    assert differences(rb) == set()


def test_the_sage100_file_connector_says_it_cannot_read_a_jobs_codes(app, erp, tmp_path):
    rb = project("RB-2401")
    add_project_code(rb, "9910.000", "Portal only", {"1": "new"})
    compare(app, "ridgeline")
    assert differences(rb)
    app.config.update(ERP_CONNECTOR="ridgeline=sage100_files", SAGE100_INBOX_DIR=str(tmp_path / "in"),
                      SAGE100_OUTBOX_DIR=str(tmp_path / "out"))
    comparison = compare(app, "ridgeline")
    assert "cannot read a job's cost codes" in comparison.unreadable
    assert differences(rb) == set()  # nothing listed, and the screen says why (view tests)


class BrokenErp:
    def fetch_job_cost_codes(self, job_numbers):
        raise ErpError("The Sage 100 Contractor database cannot be opened: server not found")


def test_an_erp_that_cannot_be_used_keeps_the_last_differences_and_says_why(app, erp):
    rb = project("RB-2401")
    add_project_code(rb, "9910.000", "Portal only", {"1": "new"})
    first = compare(app, "ridgeline")
    compared_at = first.compared_at
    comparison = compare(app, "ridgeline", connector=BrokenErp())
    assert "server not found" in comparison.failure
    assert comparison.compared_at == compared_at
    assert differences(rb) == {("missing_in_erp", "9910.000")}
    stored = db.session.scalar(select(ErpComparison).where(
        ErpComparison.company_id == company_by_slug("ridgeline").id))
    assert stored.failed_at is not None


def test_comparing_twice_lists_each_difference_once(app, erp):
    rb = project("RB-2401")
    add_project_code(rb, "9910.000", "Portal only", {"1": "new"})
    company = company_by_slug("ridgeline")
    from portal.services.erp_differences.compare import compare_company

    for _ in range(2):
        compare_company(db.session, company.id, connector_for(company, app.config))
    assert db.session.scalar(select(ErpDifference.id).where(ErpDifference.code == "9910.000"))
    assert len(db.session.scalars(select(ErpDifference).where(ErpDifference.project_id == rb.id)).all()) == 1


def test_a_sync_compares_the_projects_with_their_erp_jobs(app, erp):
    from portal.services.sync import run_company_sync

    rb = project("RB-2401")
    add_project_code(rb, "9910.000", "Portal only", {"1": "new"})
    company = company_by_slug("ridgeline")
    run = run_company_sync(db.session, company.id, connector=connector_for(company, app.config))
    assert run.status == "succeeded", run.errors
    assert run.counts["differences"] == {"jobs_compared": 8, "jobs_not_found": 0, "differences": 1}
    assert differences(rb) == {("missing_in_erp", "9910.000")}


def test_a_sync_whose_erp_cannot_be_read_for_jobs_codes_records_the_failure(app, erp):
    from portal.services.sync import run_company_sync

    company = company_by_slug("ridgeline")

    class Failing:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def fetch_job_cost_codes(self, job_numbers):
            raise ErpError("The Sage 100 Contractor database cannot be opened: timed out")

    run = run_company_sync(db.session, company.id, connector=Failing(connector_for(company, app.config)))
    assert run.status == "partial"
    assert run.counts["differences"] == {"failed": 1}
    assert any("timed out" in error["message"] for error in run.errors)
