"""Reviewer accounts and their sessions, in the results database.

A session is a row here, not only a signed cookie: logging out deletes it,
and saving a user's password or role deletes all of theirs, so an old
cookie is worth nothing at once. The browser holds a random token; only its
SHA-256 is stored, so a copy of the database opens no session.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa

from sipas_scan.store.db import Store, now
from sipas_scan.store.schema import sessions
from sipas_scan.store.schema import users as users_table


@dataclass(frozen=True)
class Session:
    user: str
    role: str  # the account's role now, not at login
    created_at: float  # Unix seconds
    active_at: float  # the user's last action


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def save_user(store: Store, name: str, role: str, password_hash: str) -> None:
    """Add a user, or set a new password and role; either way the user's
    sessions end (a changed password must lock out whoever had the old one)."""
    with store.transaction() as db:
        db.query(
            "INSERT INTO users (name, role, password_hash, created_at) VALUES (:name, :role, :hash, :at)"
            " ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash",
            name=name,
            role=role,
            hash=password_hash,
            at=now(),
        )
        db.execute(sa.delete(sessions).where(sessions.c.user == name))


def users(store: Store) -> list[tuple[str, str, str]]:
    """(name, role, created at) of every account, by name."""
    return store.db.rows("SELECT name, role, created_at FROM users ORDER BY name")


def user_credentials(store: Store, name: str) -> tuple[str, str] | None:
    """(role, password hash) of an account."""
    row = store.db.query("SELECT role, password_hash FROM users WHERE name = :name", name=name).first()
    return (row[0], row[1]) if row else None


def start_session(store: Store, token: str, user: str, at: float, *, lapsed_before: float, idle_before: float) -> None:
    """Record a new session; sessions that have lapsed (started before
    ``lapsed_before`` or idle since before ``idle_before``) are deleted on
    the way, so the table stays as small as the number of people at work."""
    with store.transaction() as db:
        db.execute(sa.delete(sessions).where((sessions.c.created_at < lapsed_before) | (sessions.c.active_at < idle_before)))
        db.execute(sa.insert(sessions).values(id=token_id(token), user=user, created_at=at, active_at=at))


def session_of(store: Store, token: str) -> Session | None:
    """The session a browser's token opens, with the account's role now;
    None when it was ended or the account is gone."""
    row = store.db.execute(
        sa.select(sessions.c.user, users_table.c.role, sessions.c.created_at, sessions.c.active_at)
        .join(users_table, users_table.c.name == sessions.c.user)
        .where(sessions.c.id == token_id(token))
    ).first()
    return Session(*row) if row else None


def touch_session(store: Store, token: str, at: float) -> None:
    """The user acted now: the idle clock starts again."""
    with store.transaction() as db:
        db.query("UPDATE sessions SET active_at = :at WHERE id = :id", at=at, id=token_id(token))


def end_session(store: Store, token: str) -> None:
    with store.transaction() as db:
        db.query("DELETE FROM sessions WHERE id = :id", id=token_id(token))
