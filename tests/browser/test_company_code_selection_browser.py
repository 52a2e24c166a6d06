"""Cost Codes from Company on a Sage 100 Contractor project: the selection survives paging and
searching, the page says how many codes are selected and what Add will add."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import assert_accessible, log_in


def open_cost_codes_from_company(page, live_server: str) -> None:
    log_in(page, live_server, "pm@ridgeline.test")
    page.get_by_role("link", name="Maple Street Medical Office").click()
    page.get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("link", name="Work Breakdown Structure").click()
    page.get_by_role("link", name="Cost Code", exact=True).click()
    page.get_by_role("link", name="Cost Codes from Company").click()
    expect(page.get_by_role("heading", name="Cost Codes from Company")).to_be_visible()


def test_select_all_then_next_then_one_more_adds_them_all(page, live_server):
    # The issue: Select All on page 1, Next, tick one code, Add: one code was added, no warning.
    open_cost_codes_from_company(page, live_server)
    summary = page.locator("#selection-summary")
    expect(summary).to_contain_text("No code selected yet.")
    page.get_by_role("group", name="Cost types for every selected code").get_by_label("2 Labor").check()
    page.get_by_label("Select All").check()
    expect(summary).to_contain_text("50 codes selected")
    expect(summary).to_contain_text("Add will add 50 codes:")
    expect(summary).to_contain_text("3010.000 Formwork (2 Labor)")

    page.get_by_role("button", name="Next ›").click()
    expect(page.get_by_text("Page 2 of 3")).to_be_visible()
    expect(summary).to_contain_text("50 codes selected (50 not listed here)")
    expect(page.get_by_role("button", name="Next ›")).to_be_focused()  # focus stays on Next

    page.get_by_label("Search company cost codes").fill("Hollow Metal")
    expect(page.get_by_label("Select 8010.000 Hollow Metal Doors")).to_be_visible()
    page.get_by_label("Select 8010.000 Hollow Metal Doors").check()
    expect(summary).to_contain_text("51 codes selected")
    assert_accessible(page, "cost codes from company with a selection kept across pages")

    # Back on page 1 every listed code is still ticked, and Select All says so.
    page.get_by_label("Search company cost codes").fill("")
    expect(page.get_by_text("Page 1 of 3")).to_be_visible()
    expect(page.get_by_label("Select 3010.000 Formwork")).to_be_checked()
    expect(page.get_by_label("Select All")).to_be_checked()
    expect(summary).to_contain_text("51 codes selected (1 not listed here)")

    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#flash-area")).to_contain_text("Added 51 cost codes: 3010.000 Formwork,")
    expect(page.locator("#flash-area")).to_contain_text("8010.000 Hollow Metal Doors")


def test_a_code_without_cost_type_is_named_before_add(page, live_server):
    open_cost_codes_from_company(page, live_server)
    page.get_by_label("Search company cost codes").fill("Formwork")
    page.get_by_label("Select 3010.000 Formwork").check()
    summary = page.locator("#selection-summary")
    expect(summary).to_contain_text("Not added: 3010.000 Formwork: choose at least one cost type")
    page.get_by_label("3010.000 1 Material").check()
    expect(summary).to_contain_text("Add will add 1 code: 3010.000 Formwork (1 Material)")
    page.get_by_role("button", name="Clear selection").click()
    expect(summary).to_contain_text("No code selected yet.")
    expect(page.get_by_label("Select 3010.000 Formwork")).not_to_be_checked()
