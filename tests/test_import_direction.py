"""Imports flow one way through the stages: a module imports only from its
own stage or from stages before it in STAGES (lazy imports inside functions
count too)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sipas_scan"

# Each stage may import the stages before it, never one after it.
STAGES = [
    "errors",
    "defs",
    "fonts",
    "progress",
    "dbfile",
    "records",
    "executor",
    "survey",
    "layout",
    "printing",
    "simulate",
    "reading",
    "calibration",
    "assembly",
    "store",
    "scan",
    "export",
    "outputs",
    "returns_tally",
    "returns_pdf",
    "returns",
    "scoring",
    "report",
    "review",
    "demo",
    "cli",
    "__main__",
]


def _stage_imports() -> dict[str, set[str]]:
    """Stage -> the other stages its modules import."""
    imports: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        stage = path.relative_to(PACKAGE).with_suffix("").parts[0]
        if stage == "__init__":
            continue
        found = imports.setdefault(stage, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "sipas_scan" and len(parts) > 1 and parts[1] in STAGES and parts[1] != stage:
                    found.add(parts[1])
    return imports


def test_every_stage_is_placed():
    on_disk = {
        p.with_suffix("").name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" or (p / "__init__.py").is_file()) and p.name != "__init__.py"
    }
    assert on_disk <= set(STAGES), sorted(on_disk - set(STAGES))


def test_no_stage_imports_a_later_one():
    backwards = sorted(
        (stage, other) for stage, others in _stage_imports().items() for other in others if STAGES.index(other) > STAGES.index(stage)
    )
    assert backwards == []


def test_the_checker_sees_a_backward_import():
    # reading imports layout, never the reverse; the order above says so.
    imports = _stage_imports()
    assert "layout" in imports["reading"] and "reading" not in imports["layout"]
    assert "assembly" in imports["store"] and "store" not in imports["assembly"]


# The store talks SQL for everyone; the SQLite file class under it and the
# ledger (its own file, written when forms are printed, before any store
# exists) are the only other code that may.
SQL_ALLOWED = ("store/", "dbfile.py", "printing/ledger.py")
SQL = re.compile(r"\.execute(many)?\(|\b(SELECT .+ FROM|INSERT (OR \w+ )?INTO|DELETE FROM|UPDATE \w+ SET)\b")


def test_only_the_store_talks_sql():
    talking = sorted(
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in PACKAGE.rglob("*.py")
        if not path.relative_to(PACKAGE).as_posix().startswith(SQL_ALLOWED)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SQL.search(line)
    )
    assert talking == []


def test_the_sql_check_sees_a_query():
    assert SQL.search('rows = store.db.execute("SELECT serial FROM forms")')
    assert SQL.search('"INSERT OR IGNORE INTO qc_entries (sample_id) VALUES (?)"')
    assert not SQL.search("the forms selected for review")
