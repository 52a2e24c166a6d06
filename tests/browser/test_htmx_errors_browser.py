"""Error answers to htmx requests are shown in the flash area (htmx's responseHandling, base.html)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import log_in

OTHER_PROJECT_CONTRACT = re.compile("RB-2401 Maple Street Medical Office.*SC-001")


def test_an_error_answer_not_from_the_portal_shows_a_plain_message_instead(page, live_server):
    """A proxy's error page has no portal message in it: the flash area says what happened and
    none of the foreign page is put into the portal's page."""
    log_in(page, live_server, "approver@ridgeline.test")
    page.goto(f"{live_server}/erp-integrations/commitments")
    page.route(
        "**/erp-integrations/commitments/*/export",
        lambda route: route.fulfill(
            status=502, content_type="text/html", body="<html><body><h1>Bad Gateway</h1></body></html>"
        ),
    )
    row = page.get_by_role("row", name=OTHER_PROJECT_CONTRACT)
    row.get_by_role("button", name=re.compile("^Export")).click()
    flash = page.locator("#flash-area")
    expect(flash.get_by_role("alert")).to_have_text(
        "The request failed (502). Reload the page and try again."
    )
    expect(page.get_by_text("Bad Gateway")).to_have_count(0)
    expect(page.get_by_role("row", name=OTHER_PROJECT_CONTRACT)).to_contain_text("Ready to export")
