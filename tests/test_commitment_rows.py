"""ERP Integrations → Commitments: what a row says when its Export must wait (issue 14, item 10)."""
from __future__ import annotations

import re

from portal.extensions import db
from portal.models import Commitment
from tests.helpers import commitment_of, waiting_request

COMMITMENTS = "/erp-integrations/commitments"


def _row(html: str, commitment: Commitment) -> str:
    match = re.search(rf'<tr id="commitment-{commitment.id}">(.*?)</tr>', html, re.S)
    assert match, f"no row for commitment {commitment.id}"
    return match.group(1)


def test_rule_5_a_row_whose_cost_code_update_waits_shows_export_disabled_with_the_reason(client, auth):
    auth.login_as("approver")
    commitment = commitment_of(waiting_request().project_id)
    row = _row(client.get(COMMITMENTS).get_data(as_text=True), commitment)
    assert "Ready to export" not in row
    described = f'aria-describedby="commitment-{commitment.id}-waits"'
    assert f'<button type="button" disabled {described}>Export' in row
    assert (
        f'<span id="commitment-{commitment.id}-waits" class="disabled-reason row-reason">Update the '
        "project&#39;s cost codes first"
    ) in row
    assert "hx-post" not in row


def test_a_row_whose_project_has_no_waiting_update_offers_export(client, auth):
    auth.login_as("approver")
    project_id = waiting_request().project_id
    free = db.session.scalar(
        db.select(Commitment).where(Commitment.project_id != project_id, Commitment.number == "SC-001")
        .order_by(Commitment.id)
    )
    row = _row(client.get(COMMITMENTS).get_data(as_text=True), free)
    assert "Ready to export" in row and "hx-post" in row
    assert not re.search(r"<button[^>]* disabled", row)


def test_after_export_the_answer_marks_the_row_state_to_take_focus(client, auth):
    auth.login_as("approver")
    project_id = waiting_request().project_id
    free = db.session.scalar(
        db.select(Commitment).where(Commitment.project_id != project_id, Commitment.number == "SC-001")
        .order_by(Commitment.id)
    )
    answer = client.htmx_post(f"{COMMITMENTS}/{free.id}/export", {"number": free.number})
    assert answer.status_code == 200
    row = _row(answer.get_data(as_text=True), free)
    assert f'id="commitment-{free.id}-state" tabindex="-1" data-focus-after-swap' in row
    assert "Queued for the next data sync" in row
