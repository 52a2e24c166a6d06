"""Company Admin → Undelivered Mail (issue 17): mail the mail server refused, or still retries."""
from __future__ import annotations

from flask_login import current_user

from portal.auth.permissions import company_tool_required
from portal.company_admin import bp
from portal.extensions import db
from portal.models import CompanyTool, Level
from portal.services.notifications import mail_is_on, undelivered_mail
from portal.web.layout import render_page


@bp.route("/undelivered-mail")
@company_tool_required(CompanyTool.COMPANY_ADMIN, Level.READ_ONLY)
def undelivered_mail_list():
    return render_page(
        "company_admin/undelivered_mail.html",
        mails=undelivered_mail(db.session, current_user.company_id), mail_is_on=mail_is_on(),
    )
