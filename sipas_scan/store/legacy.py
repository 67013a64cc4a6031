"""The schema versions before Alembic: SQLite scripts, one per PRAGMA
user_version. A results file written by an older sipas-scan is brought to
the last of them (LEGACY_VERSION) with these, then stamped with Alembic's
baseline revision (which creates that same schema) and upgraded from there.
They run on SQLite files only (json_set, ALTER TABLE as SQLite has it)."""

from __future__ import annotations

LEGACY_MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        kind TEXT NOT NULL,
        pages INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL,            -- reading | done | failed
        reason TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '',
        added_at TEXT NOT NULL
    );
    CREATE TABLE source_failures (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE pages (
        id INTEGER PRIMARY KEY,
        source_id INTEGER NOT NULL REFERENCES sources(id),
        page_index INTEGER NOT NULL,
        status TEXT NOT NULL,            -- ok | quarantined
        reason TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '',
        survey TEXT NOT NULL DEFAULT '',
        serial TEXT NOT NULL DEFAULT '',
        page_no INTEGER NOT NULL DEFAULT 0,
        orientation INTEGER NOT NULL DEFAULT 0,
        residual_mm REAL NOT NULL DEFAULT 0,
        dpi REAL NOT NULL DEFAULT 0,
        image_path TEXT NOT NULL DEFAULT '',
        readings TEXT NOT NULL DEFAULT '{}',
        read_at TEXT NOT NULL,
        UNIQUE (source_id, page_index)
    );
    CREATE INDEX pages_serial ON pages (survey, serial, page_no);
    CREATE TABLE forms (
        survey TEXT NOT NULL,
        serial TEXT NOT NULL,
        status TEXT NOT NULL,            -- accepted | needs_review | resolved | rejected
        household_code TEXT NOT NULL DEFAULT '',
        province TEXT NOT NULL DEFAULT '',
        district TEXT NOT NULL DEFAULT '',
        commune TEXT NOT NULL DEFAULT '',
        village TEXT NOT NULL DEFAULT '',
        issued INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (survey, serial)
    );
    CREATE TABLE answers (
        survey TEXT NOT NULL,
        serial TEXT NOT NULL,
        field_id TEXT NOT NULL,
        value TEXT NOT NULL,
        confidence REAL NOT NULL,
        page_id INTEGER,
        PRIMARY KEY (survey, serial, field_id)
    );
    CREATE TABLE flags (
        id INTEGER PRIMARY KEY,
        survey TEXT NOT NULL,
        serial TEXT NOT NULL,
        field_id TEXT NOT NULL DEFAULT '',  -- '' for a form-level flag
        reason TEXT NOT NULL,
        confidence REAL NOT NULL DEFAULT 0,
        detail TEXT NOT NULL DEFAULT '',
        page_id INTEGER,
        blocking INTEGER NOT NULL DEFAULT 1  -- 0: recorded for the record, needs no review
    );
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        survey TEXT NOT NULL,
        serial TEXT NOT NULL,
        field_id TEXT NOT NULL DEFAULT '',
        old_value TEXT,
        new_value TEXT,
        reviewer TEXT NOT NULL,
        at TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT ''
    );
    """,
    # 2: review - what settles each flag, reviewers, leases, blind re-entry
    """
    ALTER TABLE flags ADD COLUMN page_no INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE flags ADD COLUMN item TEXT NOT NULL DEFAULT '';
    CREATE INDEX flags_form ON flags (survey, serial);
    CREATE INDEX decisions_key ON decisions (survey, serial, field_id);
    CREATE TABLE users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,                  -- reviewer | supervisor
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE leases (
        item TEXT PRIMARY KEY,               -- survey|serial|key
        reviewer TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE TABLE qc_samples (
        id INTEGER PRIMARY KEY,
        drawn_by TEXT NOT NULL,
        at TEXT NOT NULL,
        seed INTEGER NOT NULL
    );
    CREATE TABLE qc_forms (
        sample_id INTEGER NOT NULL REFERENCES qc_samples(id),
        survey TEXT NOT NULL,
        serial TEXT NOT NULL,
        PRIMARY KEY (sample_id, survey, serial)
    );
    CREATE TABLE qc_entries (
        id INTEGER PRIMARY KEY,
        sample_id INTEGER NOT NULL REFERENCES qc_samples(id),
        survey TEXT NOT NULL,
        serial TEXT NOT NULL,
        field_id TEXT NOT NULL,
        value TEXT NOT NULL,
        machine_value TEXT NOT NULL,
        reviewer TEXT NOT NULL,
        at TEXT NOT NULL,
        UNIQUE (sample_id, survey, serial, field_id)
    );
    """,
    # 3: a form records the last decision its derivation saw, so one left
    # behind by a decision (a crash, a full rebuild running meanwhile) is
    # found and derived again; reviewers' sessions live here, so logging out
    # or changing a password ends them. Pages assigned before schema 3 were
    # stored as if their code had verified (a forged page could pass): they
    # count as identified by hand.
    """
    ALTER TABLE forms ADD COLUMN derived_through INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,                 -- SHA-256 of the token in the browser's cookie, never the token
        user TEXT NOT NULL,
        created_at REAL NOT NULL,            -- Unix seconds
        active_at REAL NOT NULL              -- the user's last action (not background lease renewals)
    );
    CREATE INDEX sessions_user ON sessions (user);
    UPDATE pages SET readings = json_set(readings, '$.identified_by', 'hand') WHERE reason = 'assigned';
    """,
    # 4: scan runs on one database at once share the files: a run claims a
    # file (by content) before reading it, renews the claim as its pages are
    # stored and drops it when the file is done. A claim whose process is
    # gone, or not renewed for CLAIM_STALE_S, is taken over.
    """
    CREATE TABLE claims (
        sha256 TEXT PRIMARY KEY,
        owner TEXT NOT NULL,                 -- host:pid:token of the scan run
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        renewed_at REAL NOT NULL             -- Unix seconds
    );
    CREATE INDEX source_failures_path ON source_failures (path);
    ALTER TABLE source_failures ADD COLUMN cleared_at TEXT NOT NULL DEFAULT '';
    """,
]

LEGACY_VERSION = len(LEGACY_MIGRATIONS)
