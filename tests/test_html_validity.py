"""Every page and partial the route sweep reaches is valid HTML by the Nu HTML Checker (vnu.jar,
from npm's vnu-jar, run on Java): nothing is reported but htmx's own attributes.

A partial is checked the way htmx parses it: inside a <template> (htmx 2 parses every answer
that is not a whole document so), where a <tr> is at home and a <form> next to it is not; the
wrapping document has the <h1> of the page the partial lands in. That
is how a Send to ERP form, answered out of band beside a table row, once came out empty.

One vnu call checks them all (the JVM's start is most of its time). Without Java or vnu.jar the
test is skipped, loudly, on a laptop, and fails in CI (.ci/run installs both).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.helpers import first_project, project_code, standard
from tests.route_table import ROLES, URL_ARGUMENTS
from tests.test_route_sweep import TABLE, _url

ROOT = Path(__file__).resolve().parents[1]
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# htmx's attributes are not HTML's: the checker reports each as not allowed. Nothing else is.
HTMX_ATTRIBUTE = re.compile(r"^Attribute “(data-)?hx-[a-z-]+” not allowed on element")

PARTIAL_DOCUMENT = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{name}</title></head>'
    "<body><h1>{name}</h1><template>{body}</template></body></html>"
)


def _vnu() -> list[str]:
    java = shutil.which("java")
    if java and VNU_JAR.exists():
        return [java, "-jar", str(VNU_JAR)]
    missing = "Java (apt-get install default-jre-headless)" if not java else f"{VNU_JAR} (npm install)"
    if os.environ.get("CI"):
        pytest.fail(f"The HTML checker needs {missing}; .ci/run installs it.")
    pytest.skip(f"!! HTML NOT CHECKED: the Nu HTML Checker needs {missing}.")


def _htmx_answers(client, auth) -> dict[str, str]:
    """Answers to htmx requests that change something, which the sweep's empty forms never see."""
    auth.login_as("pm")
    project = first_project("ridgeline")
    cost_code = project_code(project, "1010.000")
    labor = next(cost_type for cost_type in project.company.cost_types if cost_type.code == "2")
    base = f"/projects/{project.id}/admin/work-breakdown-structure/segments/cost-code"
    answers = {}
    for ticked in ("yes", "no"):
        response = client.htmx_post(f"{base}/cost-types", data={
            "cost_code": cost_code.id, "cost_type": labor.id, "assigned": ticked,
        })
        assert response.status_code == 200
        answers[f"cost-type-box-{ticked}"] = response.get_data(as_text=True)
    for active in ("no", "yes"):
        response = client.htmx_post(f"{base}/active", data={"cost_code": cost_code.id, "active": active})
        assert response.status_code == 200
        answers[f"make-active-{active}"] = response.get_data(as_text=True)
    response = client.htmx_post(f"{base}/from-company/browse", data={
        "code": str(standard("3010.000").id), "every_code_cost_type": str(labor.id), "go_to_page": "2",
    })
    assert response.status_code == 200
    answers["cost-codes-from-company-next-page"] = response.get_data(as_text=True)
    auth.logout()
    return answers


def _documents(app, client, auth) -> dict[str, str]:
    """file name -> document: each distinct page and partial the route table says a role gets."""
    seen: set[str] = set()
    documents: dict[str, str] = {}

    def keep(name: str, body: str, partial: bool) -> None:
        digest = hashlib.sha256(body.encode()).hexdigest()
        if digest in seen:
            return
        seen.add(digest)
        if partial:
            if body.lstrip()[:15].lower().startswith("<!doctype"):
                return  # a page that ignores htmx (the page itself is checked)
            body = PARTIAL_DOCUMENT.format(name=name, body=body)
        documents[f"{len(documents):03d}-{name}.html"] = body

    for role in ROLES:
        if role != "anonymous":
            auth.login_as(role)
        for endpoint, route in sorted(TABLE.items()):
            if route.method != "GET" or route.expect[role] != 200:
                continue
            url = _url(app, endpoint, route, URL_ARGUMENTS)
            for partial in (False, True):
                response = client.htmx_get(url) if partial else client.get(url)
                if response.status_code == 200 and response.mimetype == "text/html":
                    kind = "partial" if partial else "page"
                    keep(f"{endpoint}-{kind}-{role}", response.get_data(as_text=True), partial)
                response.close()  # a download streams: end it before the next request
        if role != "anonymous":
            auth.logout()
    for name, body in _htmx_answers(client, auth).items():
        keep(name, body, partial=True)
    return documents


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: Counter[str] = Counter()

    def handle_starttag(self, tag, attrs):
        # An out-of-band copy replaces its namesake in the page: not a second element there.
        if "hx-swap-oob" not in dict(attrs):
            self.ids.update(value for name, value in attrs if name == "id" and value)


def _repeated_ids(body: str) -> list[str]:
    parser = _Ids()
    parser.feed(body)
    return sorted(name for name, count in parser.ids.items() if count > 1)


def test_every_page_and_partial_is_valid_html(app, client, auth, tmp_path):
    documents = _documents(app, client, auth)
    assert len(documents) > 40, "the sweep reached too few pages: is the route table loaded?"
    # Without Java this much is still checked: an id names one element (a label's `for`, a
    # skip link and aria-describedby all find the first one only).
    repeated = {name: ids for name, body in documents.items() if (ids := _repeated_ids(body))}
    assert not repeated, f"ids used twice: {repeated}"
    vnu = _vnu()
    for name, body in documents.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    files = sorted(str(path) for path in tmp_path.glob("*.html"))
    checked = subprocess.run(
        [*vnu, "--format", "json", "--also-check-svg", *files],
        capture_output=True, text=True, timeout=300, check=False,
    )
    messages = json.loads(checked.stderr or checked.stdout)["messages"]
    problems = [
        f"{Path(message.get('url', '?')).name} line {message.get('lastLine', '?')}: {message['message']}"
        f"  [{message.get('extract', '').strip()[:120]}]"
        for message in messages
        if (message["type"] == "error" or message.get("subType") == "warning")
        and not HTMX_ATTRIBUTE.match(message["message"])
    ]
    assert not problems, f"{len(problems)} HTML problems:\n" + "\n".join(problems[:60])
