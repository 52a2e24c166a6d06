"""With HTMX_FROM_CDN=1 the page's own Content-Security-Policy lets Chromium run the CDN's htmx.

The CDN cannot be reached from the test machine, so Chromium's request for the CDN's URL is
answered with the vendored file (the same bytes: its integrity hash must still match).
"""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.helpers import ROOT, log_in

VENDORED = ROOT / "static" / "vendor"


def test_htmx_from_the_cdn_runs_under_the_pages_csp(app, page, live_server):
    app.config["HTMX_FROM_CDN"] = True
    cdn_url = app.config["HTMX_CDN_URL"]
    vendored = Path(VENDORED / f"htmx-{app.config['HTMX_VERSION']}.min.js").read_bytes()
    requested = []

    def answer_as_the_cdn(route):
        requested.append(route.request.url)
        route.fulfill(
            status=200, body=vendored, content_type="application/javascript",
            headers={"Access-Control-Allow-Origin": "*"},
        )

    page.route(cdn_url, answer_as_the_cdn)
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " (event) => window.__cspViolations.push(event.blockedURI + ' ' + event.violatedDirective));"
    )
    log_in(page, live_server, "approver@ridgeline.test")
    expect(page.get_by_role("navigation", name="Tools")).to_be_visible()
    assert requested and set(requested) == {cdn_url}  # the log-in page and the home page
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("window.__cspViolations") == []
    csp = page.evaluate("async () => (await fetch(location.href)).headers.get('content-security-policy')")
    assert "https://cdn.jsdelivr.net" in csp
