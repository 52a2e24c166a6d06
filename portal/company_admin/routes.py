"""Company Admin: Directory, ERP Standard Cost Codes, Audit Log."""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select

from portal.auth.permissions import company_tool_required
from portal.company_admin import bp
from portal.models import CompanyTool, Level, User
from portal.web import paginate, render_page_or_partial


@bp.route("/directory")
@company_tool_required(CompanyTool.COMPANY_ADMIN, Level.READ_ONLY)
def directory():
    page = paginate(select(User).where(User.company_id == current_user.company_id).order_by(User.name))
    return render_page_or_partial(
        "company_admin/directory.html", "company_admin/_directory_table.html", page=page
    )
