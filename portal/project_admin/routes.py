"""Projects and each project's Admin tool (Work Breakdown Structure → Segments → Cost Code)."""
from __future__ import annotations

from flask import render_template, request
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal.auth.permissions import project_tool_required
from portal.erp.formats import in_code_order
from portal.models import Level, Project, ProjectCostCode
from portal.project_admin import bp
from portal.services.project_access import visible_projects_query
from portal.web import paginate, render_page_or_partial


@bp.route("/")
@login_required
def projects():
    search = request.args.get("q", "").strip()[:100]
    query = visible_projects_query(current_user)
    if search:
        pattern = f"%{search}%"
        query = query.where(or_(Project.number.ilike(pattern), Project.name.ilike(pattern)))
    page = paginate(query.order_by(Project.number))
    return render_page_or_partial(
        "project_admin/projects.html", "project_admin/_projects_table.html", page=page, search=search
    )


@bp.route("/<int:project_id>/")
@project_tool_required(Level.NONE)
def project_home(project):
    return render_template(
        "project_admin/project_home.html", project=project,
        admin_level=current_user.project_level(project.id),
    )


@bp.route("/<int:project_id>/admin/")
@project_tool_required(Level.READ_ONLY)
def admin(project):
    return render_template("project_admin/admin.html", project=project)


@bp.route("/<int:project_id>/admin/work-breakdown-structure/")
@project_tool_required(Level.READ_ONLY)
def work_breakdown_structure(project):
    return render_template("project_admin/work_breakdown_structure.html", project=project)


@bp.route("/<int:project_id>/admin/work-breakdown-structure/segments/cost-code/")
@project_tool_required(Level.READ_ONLY)
def cost_codes(project):
    search = request.args.get("q", "").strip()[:100]
    query = (
        select(ProjectCostCode)
        .where(ProjectCostCode.project_id == project.id)
        .options(selectinload(ProjectCostCode.assignments))
    )
    if search:
        pattern = f"%{search}%"
        query = query.where(
            or_(ProjectCostCode.code.ilike(pattern), ProjectCostCode.description.ilike(pattern))
        )
    page = paginate(query.order_by(*in_code_order(ProjectCostCode.code)))
    return render_page_or_partial(
        "project_admin/cost_codes.html", "project_admin/_cost_code_table.html",
        project=project, page=page, search=search, cost_types=project.company.cost_types,
        admin_level=current_user.project_level(project.id),
    )
