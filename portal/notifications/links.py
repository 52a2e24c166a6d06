"""Absolute links for mail: the worker has no request, so they are built from PORTAL_BASE_URL."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask

from portal.services.notifications.messages import LinkFor


def portal_links(app: Flask) -> LinkFor:
    base = urlsplit(app.config["PORTAL_BASE_URL"].rstrip("/"))
    adapter = app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")

    def link_for(endpoint: str, **values: object) -> str:
        return adapter.build(endpoint, values, force_external=True)

    return link_for
