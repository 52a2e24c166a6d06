"""ERP Integrations → Differences with ERP in the browser: the list by kind, an action from it
(Send to ERP), the Cost Code page's line, at 1280 px, 390 px and 200% zoom (issue 18)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.extensions import db
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.browser.sizes import check_at_every_size
from tests.differences.helpers import (
    add_project_code,
    compare,
    project,
    put_on_job,
    standard_code_not_on,
)
from tests.sync.fixtures import erp, seeded_erp_file  # noqa: F401 (fixtures)

LIST = "/erp-integrations/differences"


def _differences(app, erp):  # noqa: F811
    rb1, rb2 = project("RB-2401"), project("RB-2402")
    add_project_code(rb1, "9910.000", "Temporary fencing", {"1": "new", "2": "new"})
    standard = standard_code_not_on(rb2)
    put_on_job(erp, "ridgeline", "2402", standard.code, standard.description, "1")
    compare(app, "ridgeline")
    ids = rb1.id, rb2.id, standard.code
    # Outside a request every transaction takes SQLite's write lock: end the test's before the
    # browser asks the server for anything.
    db.session.commit()
    return ids


def test_send_a_missing_code_to_the_erp_from_the_list_by_keyboard(app, page, live_server, erp):  # noqa: F811
    rb1_id, _rb2_id, standard_code = _differences(app, erp)
    log_in(page, live_server, "admin@ridgeline.test")
    page.goto(f"{live_server}/projects/{rb1_id}/admin/work-breakdown-structure/segments/cost-code/")
    page.get_by_role("link", name="1 difference with ERP job 2401").click()
    expect(page.get_by_role("heading", name=re.compile("Differences with ERP: RB-2401"))).to_be_visible()
    page.goto(f"{live_server}{LIST}")
    filters = page.get_by_role("navigation", name="Kinds of difference")
    expect(filters.get_by_role("link", name=re.compile("All differences 2"))).to_be_visible()
    filters.get_by_role("link", name=re.compile("Not on the project")).click()
    expect(page.get_by_role("row", name=re.compile(standard_code))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("9910.000"))).to_have_count(0)
    assert_accessible(page, "Differences with ERP, Not on the project")
    filters.get_by_role("link", name=re.compile("Not on the ERP job")).click()
    send = page.get_by_role("button", name="Send to ERP 9910.000 of RB-2401 Maple Street Medical Office")
    expect(send).to_be_enabled()
    # A key pressed while htmx still settles the swapped panel reaches the old one.
    page.wait_for_function("() => !document.querySelector('.htmx-settling, .htmx-swapping, .htmx-request')")
    send.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Sent 9910.000 of RB-2401")
    expect(page.get_by_role("row", name=re.compile("9910.000"))).to_have_count(0)
    expect(page.locator("#differences-heading")).to_be_focused()
    assert_accessible(page, "Differences with ERP after Send to ERP")
    screenshot(page, "differences-after-send")
    # The approver still approves: the request waits under Ready to Update.
    page.goto(f"{live_server}/erp-integrations/jobs?filter=ready_to_update")
    expect(page.get_by_role("row", name=re.compile("RB-2401"))).to_be_visible()


def test_the_list_at_every_size(app, browser, live_server, erp):  # noqa: F811
    rb1_id, _rb2_id, _code = _differences(app, erp)
    check_at_every_size(browser, live_server, "admin@ridgeline.test", LIST, "differences")
    check_at_every_size(
        browser, live_server, "pm@ridgeline.test",
        f"/projects/{rb1_id}/admin/work-breakdown-structure/segments/cost-code/",
        "differences-cost-code-page",
    )
    # A project Admin without ERP Integrations sees the project's own list, reached from that line.
    check_at_every_size(
        browser, live_server, "pm@ridgeline.test", f"{LIST}?project={rb1_id}", "differences-one-project",
    )
