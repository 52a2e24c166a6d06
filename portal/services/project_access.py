"""Which projects a user may see: one rule, for the project list and for opening a project.

A user with at least Read Only on a company-wide tool (Company Admin or ERP Integrations) sees
every project of their company; anyone else only the projects they have a level on.
"""
from __future__ import annotations

from sqlalchemy import Select, select

from portal.models import CompanyTool, Level, Project, ProjectPermission, User


def sees_every_project(user: User) -> bool:
    return (
        user.tool_level(CompanyTool.COMPANY_ADMIN) >= Level.READ_ONLY
        or user.tool_level(CompanyTool.ERP_INTEGRATIONS) >= Level.READ_ONLY
    )


def can_see_project(user: User, project: Project) -> bool:
    """For a project already known to be of the user's company."""
    return sees_every_project(user) or user.project_level(project.id) >= Level.READ_ONLY


def visible_projects_query(user: User) -> Select:
    """The user's company's projects the user may see, as a query to filter and order further."""
    query = select(Project).where(Project.company_id == user.company_id)
    if not sees_every_project(user):
        query = query.where(
            Project.id.in_(
                select(ProjectPermission.project_id).where(
                    ProjectPermission.user_id == user.id,
                    ProjectPermission.admin_level >= Level.READ_ONLY,
                )
            )
        )
    return query
