"""Reviewer accounts and their sessions, in the results database.

A session is a row here, not only a signed cookie: logging out deletes it,
and saving a user's password or role deletes all of theirs, so an old
cookie is worth nothing at once. The browser holds a random token; only its
SHA-256 is stored, so a copy of the database opens no session.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sipas_scan.store.db import Store, now


@dataclass(frozen=True)
class Session:
    user: str
    role: str               # the account's role now, not at login
    created_at: float       # Unix seconds
    active_at: float        # the user's last action


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def save_user(store: Store, name: str, role: str, password_hash: str) -> None:
    """Add a user, or set a new password and role; either way the user's
    sessions end (a changed password must lock out whoever had the old one)."""
    with store.transaction() as db:
        db.execute("INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)"
                   " ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash",
                   (name, role, password_hash, now()))
        db.execute("DELETE FROM sessions WHERE user = ?", (name,))


def users(store: Store) -> list[tuple[str, str, str]]:
    """(name, role, created at) of every account, by name."""
    return store.db.execute("SELECT name, role, created_at FROM users ORDER BY name").fetchall()


def user_credentials(store: Store, name: str) -> tuple[str, str] | None:
    """(role, password hash) of an account."""
    row = store.db.execute("SELECT role, password_hash FROM users WHERE name = ?", (name,)).fetchone()
    return (row[0], row[1]) if row else None


def start_session(store: Store, token: str, user: str, at: float, *, lapsed_before: float, idle_before: float) -> None:
    """Record a new session; sessions that have lapsed (started before
    ``lapsed_before`` or idle since before ``idle_before``) are deleted on
    the way, so the table stays as small as the number of people at work."""
    with store.transaction() as db:
        db.execute("DELETE FROM sessions WHERE created_at < ? OR active_at < ?", (lapsed_before, idle_before))
        db.execute("INSERT INTO sessions (id, user, created_at, active_at) VALUES (?, ?, ?, ?)",
                   (token_id(token), user, at, at))


def session_of(store: Store, token: str) -> Session | None:
    """The session a browser's token opens, with the account's role now;
    None when it was ended or the account is gone."""
    row = store.db.execute("SELECT s.user, u.role, s.created_at, s.active_at FROM sessions s"
                           " JOIN users u ON u.name = s.user WHERE s.id = ?", (token_id(token),)).fetchone()
    return Session(*row) if row else None


def touch_session(store: Store, token: str, at: float) -> None:
    """The user acted now: the idle clock starts again."""
    with store.transaction() as db:
        db.execute("UPDATE sessions SET active_at = ? WHERE id = ?", (at, token_id(token)))


def end_session(store: Store, token: str) -> None:
    with store.transaction() as db:
        db.execute("DELETE FROM sessions WHERE id = ?", (token_id(token),))
