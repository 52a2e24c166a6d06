"""Account: a user changes their own password."""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.models import User
from portal.passwords import hash_password
from portal.services import ServiceError, transaction
from portal.services.audit import record_event
from portal.services.login import check_credentials, end_other_sessions


def change_password(
    session: Session,
    *,
    user: User,
    current_password: str,
    new_password: str,
    min_password_length: int,
    keep_session_token: str | None,
    password_hash_method: str,
) -> None:
    """Needs the current password; ends every other session of the user (other browsers, and
    anyone holding a copy of an old cookie). Both password hashes are worked out before the
    transaction, so it holds the database only for the write itself."""
    if len(new_password) < min_password_length:
        raise ServiceError(f"The new password must have at least {min_password_length} characters.")
    user_id, email = user.id, user.email
    if check_credentials(session, email=email, password=current_password) != user_id:
        raise ServiceError("The current password is wrong; nothing was changed.")
    if new_password == current_password:
        raise ServiceError("The new password must differ from the current one.")
    new_hash = hash_password(new_password, password_hash_method)
    with transaction(session):
        user = session.get(User, user_id)
        user.password_hash = new_hash
        user.must_change_password = False
        end_other_sessions(session, user_id=user_id, keep_token=keep_session_token)
        record_event(
            session, company_id=user.company_id, actor=user, action="user.change_password",
            object_type="user", object_id=user.id, object_label=f"{user.name} <{user.email}>",
        )
