"""A project admin on a Sage 100 Contractor project's Cost Code page: ticking cost types, Send to
ERP, undoing a mistake, the keyboard's focus, and the page at three sizes.

RB-2401 Maple Street Medical Office starts with 20 codes already in its ERP job (each with
1 Material) and no update request waiting.
"""
from __future__ import annotations

from playwright.sync_api import expect

from portal.extensions import db
from portal.models import ProjectCostCode
from tests.browser.helpers import assert_accessible, log_in
from tests.helpers import first_project

PROJECT = "Maple Street Medical Office"


def open_cost_code_page(page, live_server: str, project: str = PROJECT) -> None:
    log_in(page, live_server, "pm@ridgeline.test")
    page.get_by_role("link", name=project).click()
    page.get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("link", name="Work Breakdown Structure").click()
    page.get_by_role("link", name="Cost Code", exact=True).click()
    expect(page.get_by_role("heading", name="Cost Code", exact=True)).to_be_visible()


def test_send_to_erp_works_after_ticking_a_cost_type(page, live_server):
    # The row's answer used to carry Send to ERP's form beside a <tr>: parsed as table content,
    # the form came out empty and the button outside it, so clicking it sent nothing.
    open_cost_code_page(page, live_server)
    page.get_by_label("1010.000 2 Labor").check()
    expect(page.locator("#cost-code-table tr", has_text="Project Management")).to_contain_text("not sent")
    send = page.get_by_role("button", name="Send to ERP")
    expect(send).to_be_enabled()

    with page.expect_request(
        lambda request: request.method == "POST" and request.url.endswith("/send-to-erp"), timeout=5000
    ):
        send.click()
    expect(page.locator("#flash-area")).to_contain_text("Sent to ERP: 1 line waits for approval")
    expect(page.locator("#update-request-status")).to_contain_text("Waiting for approval")
    expect(page.get_by_label("1010.000 2 Labor")).to_be_disabled()
    assert_accessible(page, "cost code page after a tick and Send to ERP")


def press_space_on_box(page) -> None:
    """Space on the focused cost type box, waiting for the row's answer to be swapped in."""
    with page.expect_response(lambda response: response.url.endswith("/cost-types")):
        page.keyboard.press("Space")
    page.wait_for_load_state("networkidle")
    # The new row is live once htmx has settled it; a key pressed before then reaches the old one.
    expect(page.locator(".htmx-swapping, .htmx-settling, .htmx-request")).to_have_count(0)


def test_focus_stays_on_the_ticked_box_when_its_row_is_replaced(page, live_server):
    # Keyboard only: the row's answer replaces the row, and focus used to fall to the page body,
    # so the next Tab started again at the top of the page.
    open_cost_code_page(page, live_server)
    page.get_by_label("1010.000 2 Labor").focus()
    press_space_on_box(page)
    row = page.locator("#cost-code-table tr", has_text="Project Management")
    expect(row).to_contain_text("not sent")
    expect(page.get_by_label("1010.000 2 Labor")).to_be_checked()
    expect(page.get_by_label("1010.000 2 Labor")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("1010.000 3 Equipment")).to_be_focused()
    press_space_on_box(page)
    expect(page.get_by_label("1010.000 3 Equipment")).to_be_checked()
    expect(page.get_by_label("1010.000 3 Equipment")).to_be_focused()
    # Unticking from the keyboard keeps focus too.
    press_space_on_box(page)
    expect(page.get_by_label("1010.000 3 Equipment")).not_to_be_checked()
    expect(page.get_by_label("1010.000 3 Equipment")).to_be_focused()
    expect(page.locator("#update-request-actions")).to_contain_text("1 cost type assignment not sent yet")


def test_undo_on_the_cost_code_page_and_why_send_to_erp_is_disabled(page, live_server, app):
    # Twelve codes with no cost type (as a refresh leaves them): Send to ERP says why it is off.
    db.session.add_all(
        ProjectCostCode(project_id=first_project().id, code=f"{9000 + index}.000",
                        description=f"Extra {index}", division="9000", origin="project")
        for index in range(12)
    )
    db.session.commit()
    open_cost_code_page(page, live_server)
    expect(page.get_by_role("button", name="Send to ERP")).to_be_disabled()
    expect(page.locator("#update-actions-reason")).to_have_text(
        "Nothing new to send: 12 codes have no cost type. "
        "Tick a cost type for each code you want in the ERP job."
    )
    legend = page.get_by_role("list", name="What the cost type boxes mean")
    expect(legend).to_contain_text("Grey and ticked: in the ERP job")

    # A code added by mistake goes, before it is sent.
    page.get_by_role("button", name="Remove 9000.000 Extra 0").click()
    expect(page.locator("#flash-area")).to_contain_text("Removed 9000.000 Extra 0 from RB-2401")
    expect(page.locator("#cost-code-table")).not_to_contain_text("Extra 0")
    expect(page.locator("#update-actions-reason")).to_contain_text("11 codes have no cost type")

    # A code in the ERP job is made inactive on the project, from the keyboard; focus stays.
    page.get_by_role("button", name="Make inactive 1010.000 Project Management").focus()
    page.keyboard.press("Enter")
    make_active = page.get_by_role("button", name="Make active 1010.000 Project Management")
    expect(make_active).to_be_focused()
    expect(page.locator("#cost-code-table tr", has_text="1010.000")).to_contain_text("No")
    expect(page.get_by_label("1010.000 2 Labor")).to_be_disabled()
    assert_accessible(page, "cost code page after Remove and Make inactive")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Make inactive 1010.000 Project Management")).to_be_focused()
    expect(page.get_by_label("1010.000 2 Labor")).to_be_enabled()
