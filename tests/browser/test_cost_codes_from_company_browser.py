"""A project admin adds company cost codes to a Sage 300 CRE project and sends them to the ERP."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import assert_accessible, log_in, screenshot


def test_project_admin_adds_company_codes_and_sends_them_to_erp(page, live_server):
    log_in(page, live_server, "pm@harborpoint.test")
    page.get_by_role("navigation", name="Tools").get_by_role("link", name="Projects").click()
    page.get_by_role("link", name="Pier 9 Ferry Terminal").click()
    assert_accessible(page, "project home")
    page.get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("link", name="Work Breakdown Structure").click()
    page.get_by_role("link", name="Cost Code", exact=True).click()
    expect(page.get_by_role("heading", name="Cost Code", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Send to ERP")).to_be_disabled()
    expect(page.get_by_text("Nothing new to send")).to_be_visible()
    assert_accessible(page, "cost code page")
    screenshot(page, "project-cost-codes-before")

    page.get_by_role("link", name="Cost Codes from Company").click()
    expect(page.get_by_role("heading", name="Cost Codes from Company")).to_be_visible()
    assert_accessible(page, "cost codes from company")
    screenshot(page, "cost-codes-from-company")

    # Divisions expand from the keyboard.
    concrete = page.locator("summary", has_text="03 Concrete")
    expect(page.get_by_label("Select 03-100 Formwork")).to_be_hidden()
    concrete.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Select 03-100 Formwork")).to_be_visible()

    # An archived company code is shown, disabled, with the reason.
    page.get_by_label("Search company cost codes").fill("Lighting")
    archived = page.get_by_label("Select 16-950 Site Lighting")
    expect(archived).to_be_disabled()
    expect(page.locator("tr", has_text="16-950")).to_contain_text("archived in the company list")
    expect(page.get_by_label("Select 16-200 Lighting")).to_be_enabled()
    assert_accessible(page, "cost codes from company, archived code")
    screenshot(page, "cost-codes-from-company-archived")

    page.get_by_label("Search company cost codes").fill("03-")
    expect(page.locator("details.division")).to_have_count(1)
    expect(page.get_by_label("Select 03-100 Formwork")).to_be_visible()

    # Select All ticks every listed code; clicking it again clears them.
    page.get_by_label("Select All").check()
    expect(page.get_by_label("Select 03-950 Precast")).to_be_checked()
    page.get_by_label("Select All").uncheck()
    expect(page.get_by_label("Select 03-100 Formwork")).not_to_be_checked()

    # A ticked category selects its code.
    page.get_by_label("03-100 LAB Labor").check()
    page.get_by_label("03-200 MAT Material").check()
    expect(page.get_by_label("Select 03-100 Formwork")).to_be_checked()
    expect(page.get_by_label("Select 03-200 Reinforcing Steel")).to_be_checked()
    assert_accessible(page, "cost codes from company, searched and ticked")
    screenshot(page, "cost-codes-from-company-selected")

    page.get_by_role("button", name="Add", exact=True).click()
    flash = page.locator("#flash-area")
    expect(flash).to_contain_text("Added 2 cost codes: 03-100 Formwork, 03-200 Reinforcing Steel.")
    formwork = page.locator("tr", has_text="Formwork")
    expect(formwork.get_by_label("03-100 LAB Labor")).to_be_checked()
    expect(formwork).to_contain_text("not sent")
    assert_accessible(page, "cost code page after add")
    screenshot(page, "project-cost-codes-added")

    page.get_by_role("button", name="Send to ERP").click()
    expect(flash).to_contain_text("Sent to ERP: 2 lines wait for approval in ERP Integrations.")
    status = page.locator("#update-request-status")
    expect(status).to_contain_text("Waiting for approval")
    expect(status).to_contain_text("2 lines, requested by Project Manager (Harbor)")
    expect(formwork).to_contain_text("waiting for approval")
    expect(formwork.get_by_label("03-100 LAB Labor")).to_be_disabled()
    assert_accessible(page, "cost code page after send")
    screenshot(page, "project-cost-codes-sent")

    page.get_by_role("link", name="HP-301 Pier 9 Ferry Terminal").click()
    expect(page.locator("#update-request-status")).to_contain_text("Waiting for approval")


def test_project_admin_ticks_a_cost_type_on_an_existing_code(page, live_server):
    log_in(page, live_server, "pm@harborpoint.test")
    page.get_by_role("link", name="Pier 9 Ferry Terminal").click()
    page.get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("link", name="Work Breakdown Structure").click()
    page.get_by_role("link", name="Cost Code", exact=True).click()

    box = page.get_by_label("01-100 MAT Material")
    box.check()
    row = page.locator("tr", has_text="Project Management")
    expect(row).to_contain_text("not sent")
    expect(page.get_by_role("button", name="Send to ERP")).to_be_enabled()
    assert_accessible(page, "cost code page with a ticked cost type")
    screenshot(page, "project-cost-codes-cost-type-ticked")
