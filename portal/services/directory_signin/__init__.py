"""Signing in with the company's directory (LDAP / Active Directory).

`ldap` talks to the directory and nothing else; `accounts` turns a directory entry into the
portal user it signs in as. The directory belongs to one company (LDAP_COMPANY): everyone it
signs in is a user of that company.
"""
from portal.services.directory_signin.accounts import (
    DirectorySignIn,
    apply_group_map,
    end_sessions_of_disabled_accounts,
    sign_in_from_proxy,
    sign_in_with_directory,
)
from portal.services.directory_signin.ldap import (
    DirectoryEntry,
    DirectoryUnavailable,
    SignInFailure,
    authenticate,
    look_up,
)
from portal.services.directory_signin.settings import (
    DirectorySettings,
    DirectorySettingsError,
    GroupGrant,
    directory_settings,
    parse_group_map,
)

__all__ = [
    "DirectoryEntry",
    "DirectorySignIn",
    "DirectorySettings",
    "DirectorySettingsError",
    "DirectoryUnavailable",
    "GroupGrant",
    "SignInFailure",
    "apply_group_map",
    "authenticate",
    "directory_settings",
    "end_sessions_of_disabled_accounts",
    "look_up",
    "parse_group_map",
    "sign_in_from_proxy",
    "sign_in_with_directory",
]
