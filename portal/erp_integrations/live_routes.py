"""Jobs → live: what an open Jobs tab asks every few seconds (static/js/live_jobs.js).

Answered 304 without rendering when the tab's tag still matches (most answers); otherwise the
filters' counts, the table and the header badge, which the script merges into the open tab
without moving what the user is working on. Never 286 (DESIGN.md's "the work is done"): a Jobs
tab is never done; the script pauses only while the tab is hidden.
"""
from __future__ import annotations

from flask import Response, render_template, request

from portal.auth.permissions import company_tool_required
from portal.erp_integrations import bp
from portal.erp_integrations.live import current_jobs_etag, matches
from portal.erp_integrations.routes import _jobs_context, _requested_filter
from portal.models import CompanyTool, Level
from portal.web.htmx import is_htmx
from portal.web.layout import render_page
from portal.web.tables import requested_page, search_text


@bp.route("/jobs/live")
@company_tool_required(CompanyTool.ERP_INTEGRATIONS, Level.READ_ONLY)
def jobs_live():
    filter_key, search, page = _requested_filter(), search_text(), requested_page()
    etag = current_jobs_etag(filter_key, search, page)
    # The browser never stores these answers (no-store): the script keeps the tag and sends it.
    headers = {"ETag": etag, "Cache-Control": "no-store", "Vary": "Cookie"}
    if matches(request.headers.get("If-None-Match"), etag):
        return Response(status=304, headers=headers)
    context = _jobs_context(filter_key, search, etag=etag)
    if not is_htmx():
        # The address opened in a browser (a copied link): the Jobs tab itself.
        return Response(render_page("erp_integrations/jobs.html", **context), headers=headers)
    return Response(render_template("erp_integrations/_jobs_live.html", **context), headers=headers)
