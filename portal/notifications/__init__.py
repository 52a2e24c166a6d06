"""Account → Notifications (issue 17): each user's choice of approval e-mail.

Its own blueprint under /account/notifications for now: the Account page (issue 12) is built
elsewhere at the same time and will link here, or take this route over.
"""
from flask import Blueprint

bp = Blueprint("notifications", __name__)

from portal.notifications import routes  # noqa: E402,F401
