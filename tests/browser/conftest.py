"""Browser tests: the portal served by waitress on loopback, driven in Debian's Chromium.

Every browser test checks each screen it visits with axe-core (`assert_accessible`) and may
save screenshots under tests/browser/artifacts/ (ignored by git) for a person to look at.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from waitress.server import create_server

ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture
def live_server(app):
    """The test's app on a free loopback port, with waitress's worker threads as in production."""
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


@pytest.fixture
def page(context):
    # An init script is injected by the browser itself, so the page's CSP (no inline scripts)
    # stays in force for everything the portal does.
    context.add_init_script(path=str(AXE_SCRIPT))
    page = context.new_page()
    yield page
    page.close()


def assert_accessible(page, screen: str) -> None:
    """Fail on any axe-core violation on the current screen, naming the rule and the elements."""
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    problems = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} -> "
        + ", ".join(node["target"][0] if node["target"] else "?" for node in violation["nodes"][:5])
        for violation in result["violations"]
    ]
    assert not problems, f"accessibility violations on {screen}:\n" + "\n".join(problems)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, live_server: str, email: str, password: str = "costcodes-demo") -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")
