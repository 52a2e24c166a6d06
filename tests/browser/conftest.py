"""Browser tests: the portal served by waitress on loopback, driven in Debian's Chromium.

Every browser test checks each screen it visits with axe-core (`assert_accessible` in
tests/browser/helpers.py) and may save screenshots under tests/browser/artifacts/ (ignored by git)
for a person to look at. The server is the `live_server` fixture of tests/conftest.py.
"""
from __future__ import annotations

import pytest

from tests.browser.helpers import AXE_SCRIPT

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
def page(context):
    # An init script is injected by the browser itself, so the page's CSP (no inline scripts)
    # stays in force for everything the portal does.
    context.add_init_script(path=str(AXE_SCRIPT))
    page = context.new_page()
    yield page
    page.close()
