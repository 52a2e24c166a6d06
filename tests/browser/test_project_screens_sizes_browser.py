"""The Cost Code page and Cost Codes from Company at 1280 px, at 390 px (a phone) and at 200%
zoom, emulated as a 640 px wide viewport at device scale factor 2 (what a 1280 px window shows
at 200%): axe-core finds nothing, and screenshots are kept for a person to look at.

RB-2402 Cedar Ridge Elementary has codes in the ERP job and an update request waiting, so every
kind of cost type box shows.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import AXE_SCRIPT, assert_accessible, log_in, screenshot

SIZES = {
    "1280px": {"viewport": {"width": 1280, "height": 900}},
    "390px": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True,
              "has_touch": True},
    "zoom200": {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2},
}


@pytest.mark.parametrize("size", SIZES)
def test_project_cost_code_screens_at_each_size(browser, live_server, size):
    context = browser.new_context(**SIZES[size])
    context.add_init_script(path=str(AXE_SCRIPT))
    page = context.new_page()
    try:
        log_in(page, live_server, "pm@ridgeline.test")
        page.get_by_role("link", name="Cedar Ridge Elementary").click()
        page.get_by_role("link", name="Admin", exact=True).click()
        page.get_by_role("link", name="Work Breakdown Structure").click()
        page.get_by_role("link", name="Cost Code", exact=True).click()
        screenshot(page, f"project-cost-code-page-before-{size}")
        page.get_by_label("1070.000 3 Equipment").check()
        expect(page.locator("#update-request-actions")).to_contain_text("not sent yet")
        assert_accessible(page, f"cost code page at {size}")
        screenshot(page, f"project-cost-code-page-{size}")

        page.get_by_role("link", name="Cost Codes from Company").click()
        every_code = page.get_by_role("group", name="Cost types for every selected code")
        every_code.get_by_label("1 Material").check()
        page.get_by_label("Select All").check()
        expect(page.locator("#selection-summary")).to_contain_text("50 codes selected")
        page.get_by_role("button", name="Next ›").click()
        expect(page.locator("#selection-summary")).to_contain_text("not listed here")
        assert_accessible(page, f"cost codes from company at {size}")
        screenshot(page, f"cost-codes-from-company-{size}")
    finally:
        context.close()
