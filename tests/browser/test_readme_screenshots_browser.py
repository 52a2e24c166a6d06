"""The README's screenshots, made from the demo data by the browser, so they never go stale.

    UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser/test_readme_screenshots_browser.py

writes them to docs/screenshots/ (committed; the README shows them). Without the variable the
test still walks the same screens and keeps the pictures under tests/browser/artifacts/.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import expect

from portal.extensions import db
from tests.browser.helpers import ROOT, assert_accessible, log_in, screenshot
from tests.browser.test_refresh_browser import background_worker  # noqa: F401 (fixture)
from tests.refresh.refresh_support import add_company_code

README_SCREENSHOTS = ROOT / "docs" / "screenshots"
README_VIEWPORT = {"width": 1280, "height": 800}


def readme_screenshot(page, name: str) -> Path:
    if os.environ.get("UPDATE_SCREENSHOTS") != "1":
        return screenshot(page, f"readme-{name}")
    README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = README_SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def test_readme_shows_the_jobs_tab_and_the_cost_codes_for_update_window(page, live_server):
    page.set_viewport_size(README_VIEWPORT)
    log_in(page, live_server, "approver@ridgeline.test")
    page.goto(f"{live_server}/erp-integrations/jobs?filter=ready_to_update")
    row = page.get_by_role("row", name=re.compile("RB-2402 Cedar Ridge Elementary"))
    expect(row).to_be_visible()
    assert_accessible(page, "Jobs tab for the README")
    readme_screenshot(page, "jobs-tab")

    row.get_by_role("link", name=re.compile("View Requested Updates")).click()
    dialog = page.get_by_role("dialog", name="Cost Codes for Update")
    expect(dialog).to_be_visible()
    assert_accessible(page, "Cost Codes for Update window for the README")
    readme_screenshot(page, "cost-codes-for-update")


def test_readme_shows_the_refresh_banner(page, live_server, background_worker):  # noqa: F811
    add_company_code("harbor-point", "01-050", "Mobilization")
    db.session.rollback()  # SQLite: leave no read transaction open while the browser works
    page.set_viewport_size(README_VIEWPORT)
    log_in(page, live_server, "pm@harborpoint.test")
    page.goto(f"{live_server}/projects/")
    page.get_by_role("link", name="Pier 9 Ferry Terminal").click()
    page.get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("link", name="Work Breakdown Structure").click()
    page.get_by_role("link", name="Cost Code", exact=True).click()
    page.get_by_role("button", name="Refresh Cost Codes").click()
    expect(page.locator("#refresh-status .banner-progress")).to_be_visible()
    page.wait_for_function(
        "() => { const p = document.getElementById('refresh-progress'); return p && p.value > 0 }"
    )
    assert_accessible(page, "refresh banner for the README")
    readme_screenshot(page, "refresh-banner")
