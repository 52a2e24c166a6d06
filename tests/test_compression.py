"""Pages, CSS and JS travel compressed to a browser that takes it (site trailers on slow links),
and compressing changes nothing else a browser or htmx relies on."""
from __future__ import annotations

from pathlib import Path

import brotli
import pytest
from backports import zstd  # installed with Flask-Compress (Python 3.14 has compression.zstd)

from portal.web.htmx import STOP_POLLING

STATIC = Path(__file__).resolve().parents[1] / "static"
BROWSER = "gzip, deflate, br, zstd"  # what Chromium sends


def _decoded(response) -> bytes:
    encoding = response.headers.get("Content-Encoding")
    data = response.get_data()
    if encoding == "br":
        return brotli.decompress(data)
    if encoding == "zstd":
        return zstd.decompress(data)
    assert encoding is None, encoding
    return data


def test_a_page_is_sent_compressed_with_its_security_headers(client, auth):
    auth.login_as("admin")
    plain = client.get("/erp-integrations/jobs")
    packed = client.get("/erp-integrations/jobs", headers={"Accept-Encoding": BROWSER})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "zstd"
    assert len(packed.get_data()) < len(plain.get_data()) / 3
    assert _decoded(packed) == plain.get_data()
    assert "Accept-Encoding" in packed.headers["Vary"]
    for header in ("Content-Security-Policy", "X-Frame-Options", "Cache-Control"):
        assert packed.headers[header] == plain.headers[header]


@pytest.mark.parametrize(
    ("accepted", "encoding"), [("br", "br"), (BROWSER, "zstd")]
)
def test_htmx_and_the_stylesheet_are_sent_compressed(client, accepted, encoding):
    for path in ("vendor/htmx-2.0.11.min.js", "css/portal.css", "js/portal.js"):
        response = client.get(f"/static/{path}", headers={"Accept-Encoding": accepted})
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == encoding, path
        assert _decoded(response) == (STATIC / path).read_bytes()
        if "htmx" in path:
            assert len(response.get_data()) < 20_000  # 51 KB as stored
        response.close()


def test_a_poll_that_stops_keeps_its_status_when_compressed(client, auth, app):
    auth.login_as("admin")
    app.config["COMPRESS_MIN_SIZE"] = 0  # the demo's run history is short
    plain = client.get("/erp-integrations/sync/runs", headers={"HX-Request": "true"})
    packed = client.get(
        "/erp-integrations/sync/runs", headers={"HX-Request": "true", "Accept-Encoding": BROWSER}
    )
    assert plain.status_code == packed.status_code == STOP_POLLING
    assert packed.headers["Content-Encoding"] == "zstd"
    assert _decoded(packed) == plain.get_data()


def test_a_refused_log_in_keeps_its_retry_after(client, app):
    app.config["RATELIMIT_ENABLED"] = True
    answers = [
        client.post_form(
            "/login", {"email": "nobody@ridgeline.test", "password": "wrong"},
            headers={"Accept-Encoding": BROWSER},
        )
        for _ in range(12)
    ]
    refused = [answer for answer in answers if answer.status_code == 429]
    assert refused, [answer.status_code for answer in answers]
    assert int(refused[-1].headers["Retry-After"]) > 0
    assert b"try again" in _decoded(refused[-1]).lower()
