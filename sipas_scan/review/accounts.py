"""Reviewer accounts, kept in the results database.

Passwords are stored as Werkzeug's salted scrypt hashes, never in clear.
"""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

from sipas_scan.errors import BadArgsError
from sipas_scan.store.db import Store, now

ROLES = ("reviewer", "supervisor")
MIN_PASSWORD_LENGTH = 8


def add_user(store: Store, name: str, role: str, password: str) -> None:
    if role not in ROLES:
        raise BadArgsError(f"role must be one of {', '.join(ROLES)}, not '{role}'")
    if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise BadArgsError(f"user name '{name}': letters, digits, '-', '_' and '.' only")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadArgsError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    with store.transaction() as db:
        db.execute("INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)"
                   " ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash",
                   (name, role, generate_password_hash(password), now()))


def list_users(store: Store) -> list[tuple[str, str, str]]:
    return store.db.execute("SELECT name, role, created_at FROM users ORDER BY name").fetchall()


def check_login(store: Store, name: str, password: str) -> str | None:
    """The user's role if the password is right, else None."""
    row = store.db.execute("SELECT role, password_hash FROM users WHERE name = ?", (name,)).fetchone()
    if row is None:
        # Same work for an unknown name, so timing does not tell which names exist.
        check_password_hash(generate_password_hash("x"), password)
        return None
    return row[0] if check_password_hash(row[1], password) else None


def role_of(store: Store, name: str) -> str | None:
    row = store.db.execute("SELECT role FROM users WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None
