"""A table's row URLs are built once per table; each must be exactly what url_for() gives."""
from __future__ import annotations

from flask import url_for

from portal.web.tables import url_for_rows


def test_row_urls_are_exactly_what_url_for_gives(app):
    with app.test_request_context("/erp-integrations/jobs"):
        for search in (None, "2010 & Main", "918273645546372819"):
            reject_url_of = url_for_rows("erp_integrations.reject_dialog", "request_id", q=search)
            for request_id in (1, 42, 1234567):
                assert reject_url_of(request_id) == url_for(
                    "erp_integrations.reject_dialog", request_id=request_id, q=search
                )
