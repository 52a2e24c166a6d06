"""Projects and each project's Admin tool (Work Breakdown Structure → Segments → Cost Code)."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from portal.auth.permissions import project_tool_required
from portal.db.search import text_search
from portal.extensions import db
from portal.models import Level, Project
from portal.project_admin import bp
from portal.services.cost_code_page import (
    cost_code_page,
    project_cost_codes_query,
    update_request_state,
)
from portal.services.project_access import visible_projects_query
from portal.web.htmx import is_htmx, render_page_or_partial
from portal.web.layout import render_page
from portal.web.tables import paginate, search_text


@bp.route("/")
@login_required
def projects():
    search = search_text()
    query = visible_projects_query(current_user)
    if search:
        query = query.where(text_search(search, Project.number, Project.name))
    page = paginate(query.order_by(Project.number))
    return render_page_or_partial(
        "project_admin/projects.html", "project_admin/_projects_table.html", page=page, search=search
    )


@bp.route("/<int:project_id>/")
@project_tool_required(Level.NONE)
def project_home(project):
    admin_level = current_user.project_level(project.id)
    return render_page(
        "project_admin/project_home.html", project=project, admin_level=admin_level,
        update_state=update_request_state(db.session, project, admin_level),
    )


@bp.route("/<int:project_id>/admin/")
@project_tool_required(Level.READ_ONLY)
def admin(project):
    return render_page("project_admin/admin.html", project=project)


@bp.route("/<int:project_id>/admin/work-breakdown-structure/")
@project_tool_required(Level.READ_ONLY)
def work_breakdown_structure(project):
    return render_page("project_admin/work_breakdown_structure.html", project=project)


@bp.route("/<int:project_id>/admin/work-breakdown-structure/segments/cost-code/")
@project_tool_required(Level.READ_ONLY)
def cost_codes(project):
    search = search_text()
    page = paginate(project_cost_codes_query(project, search))
    admin_level = current_user.project_level(project.id)
    context = {
        "project": project, "page": page, "search": search, "admin_level": admin_level,
        "cost_types": project.company.cost_types,
    }
    if is_htmx():  # search and paging replace only the table
        return render_template("project_admin/_cost_code_table.html", **context)
    state = cost_code_page(db.session, project, admin_level)
    return render_page(
        "project_admin/cost_codes.html", update_state=state.update_state,
        refresh_job=state.refresh_job, erp_differences=state.erp_differences, **context,
    )
