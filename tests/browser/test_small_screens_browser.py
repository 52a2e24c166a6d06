"""Every page works on a phone (390 px) and at 200% zoom without the page scrolling sideways.

The pages are every HTML page the route sweep (tests/route_table/) lets an admin open, with the
sweep's own ids, plus each filter of the Jobs tab. 200% zoom is emulated as the browser does it:
a 1280 px window zoomed to 200% lays the page out 640 px wide with two device pixels per CSS
pixel, so the test uses a 640 px viewport with device_scale_factor 2.

A wide table may scroll, but only inside its own region, which the keyboard can reach
(templates/macros/tables.html): axe's scrollable-region-focusable checks that on every page.
"""
from __future__ import annotations

import pytest
from flask import url_for
from playwright.sync_api import expect

from portal.erp_integrations.jobs import JOB_FILTERS
from tests.browser.helpers import AXE_SCRIPT, assert_accessible, log_in, screenshot
from tests.route_table import URL_ARGUMENTS
from tests.test_route_sweep import TABLE

# The stylesheet and scripts are not pages; downloads (CSV files) are told apart by their
# answer's type below, so a new download needs no entry here.
NOT_PAGES = {"static"}

SIZES = {
    "1280px": {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1},
    "390px": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3},
    "200pct-zoom": {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2},
}


def _admin_pages(app) -> list[tuple[str, str]]:
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    pages = []
    with app.test_request_context():
        for endpoint, route in sorted(TABLE.items()):
            if route.method != "GET" or route.expect["admin"] != 200 or endpoint in NOT_PAGES:
                continue
            values = dict(route.fixed_args)
            for name in rules[endpoint].arguments:
                values.setdefault(name, URL_ARGUMENTS[name]())
            pages.append((endpoint, url_for(endpoint, **values)))
        for key, _label in JOB_FILTERS:
            pages.append((f"jobs-{key}", url_for("erp_integrations.jobs", filter=key)))
    return pages


def _page_scrolls_sideways(page) -> tuple[int, int] | None:
    width, client_width = page.evaluate(
        "[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    return (width, client_width) if width > client_width else None


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_fits_the_screen_and_is_accessible(browser, live_server, app, size):
    context = browser.new_context(**SIZES[size])
    context.add_init_script(path=str(AXE_SCRIPT))
    page = context.new_page()
    try:
        log_in(page, live_server, "admin@ridgeline.test")
        too_wide = []
        for name, path in _admin_pages(app):
            answer = page.request.get(f"{live_server}{path}")
            assert answer.status == 200, path
            if not answer.headers["content-type"].startswith("text/html"):
                continue  # a download, which the browser saves rather than shows
            response = page.goto(f"{live_server}{path}")
            assert response.status == 200, path
            page.wait_for_load_state("networkidle")
            screenshot(page, f"{size}-{name.replace('.', '-')}")
            if overflow := _page_scrolls_sideways(page):
                too_wide.append(f"{path}: {overflow[0]} px wide in a {overflow[1]} px window")
            assert_accessible(page, f"{path} at {size}")
        assert not too_wide, f"pages that scroll sideways at {size}:\n" + "\n".join(too_wide)
    finally:
        context.close()


def test_keyboard_reaches_the_last_column_of_a_wide_table_at_200_percent_zoom(browser, live_server):
    """At 200% zoom the Jobs tab's Actions column is past the window's edge: Tab reaches the
    table's region, the arrow keys scroll it, and Update is then in view."""
    context = browser.new_context(**SIZES["200pct-zoom"])
    page = context.new_page()
    try:
        log_in(page, live_server, "admin@ridgeline.test")
        page.goto(f"{live_server}/erp-integrations/jobs")
        region = page.get_by_role("region", name="Projects with cost code updates waiting for approval")
        for _ in range(60):
            page.keyboard.press("Tab")
            if region.evaluate("element => element === document.activeElement"):
                break
        expect(region).to_be_focused()
        for _ in range(20):
            page.keyboard.press("ArrowRight")
        assert region.evaluate("element => element.scrollLeft") > 0 or region.evaluate(
            "element => element.scrollWidth <= element.clientWidth"
        )
        update = region.get_by_role("button", name="Update").first
        box, window = update.bounding_box(), page.viewport_size
        assert box and box["x"] + box["width"] <= window["width"], "Update is still off-screen"
    finally:
        context.close()
