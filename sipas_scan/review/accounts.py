"""Reviewer accounts, kept in the results database.

Passwords are stored as Werkzeug's salted scrypt hashes, never in clear.
"""

from __future__ import annotations

import functools
import secrets
import time

from werkzeug.security import check_password_hash, generate_password_hash

from sipas_scan.errors import BadArgsError
from sipas_scan.store import accounts as stored
from sipas_scan.store.db import Store

ROLES = ("reviewer", "supervisor")
MIN_PASSWORD_LENGTH = 8
# Bounds on what a login form may carry: a name or password longer than
# these is refused before any work is done or anything is remembered.
MAX_NAME_LENGTH = 64
MAX_PASSWORD_LENGTH = 1024
SESSION_HOURS = 8  # a login lasts a working day at most
SESSION_IDLE_MINUTES = 30  # and lapses after half an hour without the user doing anything
# The last action is written at most this often: a write on every request
# would make each page view a write transaction for nothing.
ACTIVITY_RESOLUTION_S = 30


def add_user(store: Store, name: str, role: str, password: str) -> None:
    """Add an account, or set a new password or role: the user's open
    sessions end either way."""
    if role not in ROLES:
        raise BadArgsError(f"role must be one of {', '.join(ROLES)}, not '{role}'")
    if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise BadArgsError(f"user name '{name}': letters, digits, '-', '_' and '.' only")
    if len(name) > MAX_NAME_LENGTH:
        raise BadArgsError(f"user name: at most {MAX_NAME_LENGTH} characters")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadArgsError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadArgsError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")
    stored.save_user(store, name, role, generate_password_hash(password))


def list_users(store: Store) -> list[tuple[str, str, str]]:
    return stored.users(store)


@functools.cache
def dummy_hash() -> str:
    """A hash checked for names that do not exist. Made once: hashing a new
    one each time as well as checking it cost an unknown name twice the time
    of a known one, which told which names exist."""
    return generate_password_hash("no account has this password")


def check_login(store: Store, name: str, password: str) -> str | None:
    """The user's role if the password is right, else None. A known and an
    unknown name cost the same single scrypt check."""
    credentials = stored.user_credentials(store, name) if len(name) <= MAX_NAME_LENGTH else None
    password = password[: MAX_PASSWORD_LENGTH + 1]  # longer is wrong anyway; scrypt need not chew megabytes
    if credentials is None:
        check_password_hash(dummy_hash(), password)
        return None
    role, password_hash = credentials
    return role if check_password_hash(password_hash, password) else None


def open_session(store: Store, user: str) -> str:
    """A new session for ``user``; returns the token for the browser's cookie."""
    token = secrets.token_urlsafe(32)
    moment = time.time()
    stored.start_session(
        store, token, user, moment, lapsed_before=moment - SESSION_HOURS * 3600, idle_before=moment - SESSION_IDLE_MINUTES * 60
    )
    return token


def current_session(store: Store, token: str, *, activity: bool = True) -> stored.Session | None:
    """The live session a token opens, else None (ended, lapsed, or its
    account gone; a lapsed one is ended on the way). ``activity``: the
    request is the user's own doing, so the idle clock starts again."""
    found = stored.session_of(store, token)
    if found is None:
        return None
    moment = time.time()
    if moment - found.created_at > SESSION_HOURS * 3600 or moment - found.active_at > SESSION_IDLE_MINUTES * 60:
        stored.end_session(store, token)
        return None
    if activity and moment - found.active_at >= ACTIVITY_RESOLUTION_S:
        stored.touch_session(store, token, moment)
    return found


def close_session(store: Store, token: str) -> None:
    stored.end_session(store, token)
