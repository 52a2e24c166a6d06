"""The Audit Log in words: every action the portal records has a sentence, details read as text."""
from __future__ import annotations

import re
from pathlib import Path

from portal.services.audit_sentences import ACTION_SENTENCES, action_sentence, describe_details

PORTAL = Path(__file__).resolve().parents[1] / "portal"
FAMILIES = {key.split(".")[0] for key in ACTION_SENTENCES}
FAMILY = "|".join(sorted(FAMILIES))
ACTION_LITERAL = re.compile(rf'"((?:{FAMILY})\.[a-z_]+(?:\.[a-z_]+)?)"')


def recorded_actions() -> set[str]:
    found = set()
    for path in PORTAL.rglob("*.py"):
        if path.name != "audit_sentences.py":
            found |= set(ACTION_LITERAL.findall(path.read_text()))
    return found


def test_every_action_the_portal_records_has_a_sentence():
    actions = recorded_actions()
    assert "cost_code_update.approve" in actions  # the search finds them
    missing = sorted(actions - set(ACTION_SENTENCES))
    assert not missing, f"audit actions with no sentence in portal/services/audit_sentences.py: {missing}"


def test_an_action_reads_as_a_sentence_naming_its_object():
    assert action_sentence("cost_code_update.approve", "RB-2402 Cedar Ridge Elementary") == (
        "Approved the cost code update for RB-2402 Cedar Ridge Elementary"
    )


def test_details_read_as_sentences_not_python_values():
    assert describe_details({"privilege": "Can Push to Accounting", "before": "No", "after": "Yes"}) == (
        "Can Push to Accounting changed from No to Yes."
    )
    reason = describe_details({"lines": 4, "reason": "Wrong cost type."})
    assert reason == "4 lines. Reason: “Wrong cost type.”"
    text = describe_details({
        "erp_job": "2404", "sync_run": 7, "outcomes": {"created": 3, "failed": 1}, "error": None,
        "cost_types": ["1 Material", "2 Labor"],
    })
    assert text == (
        "ERP job: 2404. Sync run: 7. Outcomes: 3 created, 1 failed. Cost types: 1 Material; 2 Labor."
    )
    assert not re.search(r"[{}\[\]']", describe_details({
        "counts": {"jobs": {"created": 1}},
        "errors": [{"step": "jobs", "item": "2404", "message": "Missing."}],
    }))
