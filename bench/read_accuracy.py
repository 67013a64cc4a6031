"""Reading accuracy and speed on simulated stacks, per profile.

Prints, for each profile: silent errors (answers accepted but wrong) per
10,000 answers, forms sent to review among forms without deliberate
anomalies, and how many deliberate anomalies were caught. Of the forms
held, it tells those whose every answer was read right (the doubt bought
nothing) and those with an answer the scan does not show at all (only the
paper can settle them).

    .venv/bin/python bench/read_accuracy.py [--forms N] [--profiles clean,office,hard] [--no-ocr]

Besides the simulator's profiles, ``--profiles`` takes variants of the
office or hard profile with one thing changed (``VARIANTS``): stacks unlike the
ones the reader was tuned on, e.g. ``office-pencil,office-bw150``.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from print_bench import write_households  # noqa: E402

from sipas_scan.assembly.forms import unproven  # noqa: E402
from sipas_scan.layout import layout_survey  # noqa: E402
from sipas_scan.printing.batch import print_batch  # noqa: E402
from sipas_scan.printing.codes import Secret  # noqa: E402
from sipas_scan.reading.page import ReadOptions  # noqa: E402
from sipas_scan.scan import scan_inputs  # noqa: E402
from sipas_scan.simulate.profiles import HARD, OFFICE, PROFILES  # noqa: E402
from sipas_scan.simulate.stacks import simulate_returns  # noqa: E402
from sipas_scan.survey import find_survey  # noqa: E402

# A field anomaly is caught when one of these flags is on the field; a
# cancellation done as the form says and a circled answer are also caught
# when simply read right (the reader takes them as answers).
FIELD_ANOMALIES = {
    "multiple": {"multiple"},
    "over-max": {"over-max"},
    "cancelled": {"cancelled", "unclear-fill", "unclear-cancel", "faint", "multiple"},
    "circled": {"circled", "outside-box", "faint"},
    "skip-rule": {"skip-rule"},
}
READ_RIGHT_CATCHES = {"cancelled", "circled"}

# The office or hard profile with one thing changed.
VARIANTS = {
    # a third of the forms filled in light pencil (office: 3 %)
    "office-pencil": replace(OFFICE, name="office-pencil", pen=replace(OFFICE.pen, pencil_rate=0.35, felt_tip_rate=0.05)),
    # every page black and white at 150 dpi, the threshold anywhere in 135-185
    "office-bw150": replace(
        OFFICE, name="office-bw150", scanner=replace(OFFICE.scanner, dpi_choices=(150,), mode_choices=("bw",), bw_threshold=(135, 185))
    ),
    # blue ballpoint only, colour scans saved as JPEG of quality 30-50
    "office-blue": replace(
        OFFICE,
        name="office-blue",
        pen=replace(OFFICE.pen, black_ink_rate=0.0),
        scanner=replace(OFFICE.scanner, mode_choices=("colour",), jpeg_quality=(30, 50)),
    ),
    # loops, slashes and blobs as often as ticks and crosses; bigger marks that overflow more
    "office-hands": replace(
        OFFICE,
        name="office-hands",
        pen=replace(
            OFFICE.pen,
            hands=(("tick", 0.15), ("cross", 0.15), ("slash", 0.25), ("blob", 0.2), ("loop", 0.25)),
            size_range=(0.5, 1.6),
            overflow_rate=0.15,
            reach_rate=0.1,
        ),
    ),
    # every form in felt tip (lines 0.6-0.9 mm), marks up to 1.3 times the box, one in ten much larger
    "office-felt": replace(
        OFFICE, name="office-felt", pen=replace(OFFICE.pen, felt_tip_rate=1.0, size_range=(0.8, 1.3), overflow_rate=0.1)
    ),
    # fed up to 5 degrees askew, 5 mm off, 2 mm of perspective
    "office-skew": replace(
        OFFICE, name="office-skew", scanner=replace(OFFICE.scanner, max_rotation_deg=5.0, max_shift_mm=5.0, max_perspective_mm=2.0)
    ),
    # careless marks: anywhere within 1.3 mm of the box's centre, 0.4-1.5 times its size, lines 0.25-0.7 mm
    "office-sloppy": replace(
        OFFICE, name="office-sloppy", pen=replace(OFFICE.pen, offset_mm=1.3, size_range=(0.4, 1.5), stroke_mm=(0.25, 0.7))
    ),
    # a cheap scanner: 150 dpi grey or colour, JPEG of quality 30-45, blurred and noisy
    "office-lowq": replace(
        OFFICE,
        name="office-lowq",
        scanner=replace(
            OFFICE.scanner,
            dpi_choices=(150,),
            mode_choices=("gray", "colour"),
            jpeg_quality=(30, 45),
            noise_sigma=(3.0, 8.0),
            blur_sigma_px=(0.4, 1.2),
        ),
    ),
    # tinted paper, uneven light, folds and shadowed edges on twice as many pages
    "office-dim": replace(
        OFFICE,
        name="office-dim",
        scanner=replace(
            OFFICE.scanner, paper_tint=0.2, lighting_amplitude=0.3, fold_rate=0.6, max_fold_shadow=0.2, shadow_edge_rate=0.3
        ),
    ),
    # every page curled: an edge 25-70 mm deep standing 3.6-12 mm off the glass
    "office-curl": replace(OFFICE, name="office-curl", scanner=replace(OFFICE.scanner, curl_rate=1.0, max_curl_lift_mm=12.0)),
    # the hard profile with every page black and white at 150 dpi (one hard stack in three or four is)
    "hard-bw150": replace(HARD, name="hard-bw150", scanner=replace(HARD.scanner, dpi_choices=(150,), mode_choices=("bw",))),
}


UNSEEN_MAX_SECTORS = 3  # fewer sectors round a box than this crossed by ink: nothing drawn round it


def _not_on_scan(boxes: dict[str, dict] | None, expected: str) -> bool:
    """An answer the scan does not show: its page was not read, or a box
    of it holds no ink inside and no stroke round it."""
    if boxes is None:
        return True
    return any(
        (b := boxes.get(code)) is not None and b["coverage"] == 0 and b["stroke"] == 0 and b["loose_sectors"] < UNSEEN_MAX_SECTORS
        for code in expected.split(";")
        if code
    )


def evaluate(sim_dir: Path, db: Path) -> dict:
    truth = {r["form_id"]: r for r in csv.DictReader((sim_dir / "truth.csv").open(encoding="utf-8"))}
    anomalies = list(csv.DictReader((sim_dir / "anomalies.csv").open(encoding="utf-8")))
    con = sqlite3.connect(db)
    answers = {(s, f): v for s, f, v in con.execute("SELECT serial, field_id, value FROM answers")}
    flags: dict[tuple[str, str], set[str]] = {}
    for serial, field_id, reason, _blocking in con.execute("SELECT serial, field_id, reason, blocking FROM flags"):
        flags.setdefault((serial, field_id), set()).add(reason)
    status = dict(con.execute("SELECT serial, status FROM forms"))
    # Each stored box, to tell an answer the scan does not show (no ink in
    # or round its box) from one it shows but was not read.
    boxes: dict[tuple[str, str], dict[str, dict]] = {}
    for serial, readings in con.execute("SELECT serial, readings FROM pages WHERE status = 'ok'"):
        for reading in json.loads(readings).get("fields", []):
            boxes[(serial, reading["field_id"])] = {b["code"]: b for b in reading["boxes"]}
    # Form-level flags that send a whole page to review (no marks, missing, ...).
    page_flagged: set[tuple[str, int]] = set()
    # A form held only to confirm who it is (no page's code could be read),
    # or that a page placed by its neighbours in the stack is its own, has
    # its identity checked, not each answer: those answers are not counted
    # as looked at.
    for serial, reason, detail in con.execute(
        "SELECT serial, reason, detail FROM flags WHERE field_id = '' AND blocking = 1"
        " AND reason NOT IN ('unverified-code', 'placed-by-stack')"
    ):
        match = re.match(r"page (\d+)", detail)
        if match and reason != "two-copies":  # two copies of a form: the whole form is looked at
            page_flagged.add((serial, int(match.group(1))))
        else:  # the whole form is checked (pages in two files, serial never issued)
            page_flagged.update((serial, n) for n in range(1, 20))
    survey = find_survey(con.execute("SELECT survey FROM forms LIMIT 1").fetchone()[0])
    page_of = {f.id: f.page for p in layout_survey(survey).pages for f in p.fields}
    pages = con.execute(
        "SELECT s.path, p.page_index, p.status, p.reason, p.serial, p.orientation FROM pages p JOIN sources s ON s.id = p.source_id"
    ).fetchall()
    by_position = {(Path(path).stem, index + 1): (st, reason, serial, orient) for path, index, st, reason, serial, orient in pages}
    field_ids = [
        c
        for c in next(iter(truth.values()))
        if c not in ("form_id", "household_code", "province", "district", "commune", "village", "status")
    ]
    # A photocopy is a second, differently filled copy of a form: the truth
    # holds one copy's comment, and text read from the other is not invented.
    photocopied = {a["serial"] for a in anomalies if a["kind"] == "photocopy"}
    out: Counter[str] = Counter()
    wrong_examples = []
    unseen_examples: set[tuple[str, str]] = set()
    clean_examples: list[tuple[str, str, str]] = []
    for serial, row in truth.items():
        if serial not in status:
            out["forms_lost"] += 1
            continue
        for field_id in field_ids:
            expected, got = row[field_id], answers.get((serial, field_id), "")
            flagged = bool(flags.get((serial, field_id))) or (serial, page_of[field_id]) in page_flagged
            if field_id == "t1":
                if expected or got:
                    out["comments"] += 1
                    out["comments_accepted_wrong"] += not flagged and got != expected
                    out["comments_invented"] += bool(got and not expected) and serial not in photocopied
                continue
            out["answers"] += 1
            if got != expected and not flagged:
                out["silent"] += 1
                wrong_examples.append((serial, field_id, expected, got))
                # An answer (or a choice of one) the scan does not show: no
                # reading rule could have found it, only a person with the paper.
                lost = ";".join(c for c in expected.split(";") if c and c not in got.split(";"))
                if lost and _not_on_scan(boxes.get((serial, field_id)), lost):
                    out["silent_unseen"] += 1
                    unseen_examples.add((serial, field_id))
        if row["status"] == "accepted":
            out["clean_forms"] += 1
            out["clean_to_review"] += status[serial] != "accepted"
            if not row.get("t1"):
                out["clean_forms_no_comment"] += 1
                out["clean_no_comment_to_review"] += status[serial] != "accepted"
                # Held although every answer was read right: the doubt cost a
                # person's time and bought nothing. The rest could not have
                # been accepted as read without a wrong answer (most: a mark
                # the scan does not show, or a page quarantined).
                held = status[serial] != "accepted"
                wrong = [f for f in field_ids if f != "t1" and answers.get((serial, f), "") != row[f]]
                out["clean_no_comment_held_read_right"] += held and not wrong
                out["clean_no_comment_held_unseen"] += held and any(_not_on_scan(boxes.get((serial, f)), row[f]) for f in wrong)
            if status[serial] != "accepted":
                for (flag_serial, field_id), reasons in flags.items():
                    if flag_serial == serial:
                        for reason in reasons:
                            out[f"clean_reason:{reason}"] += 1
                            clean_examples.append((serial, field_id, reason))
    forged_pages = {(a["stack"], int(p)) for a in anomalies if a["kind"] == "forged" for p in a["position"].split(";") if p}
    # Anomalies overlap: a form out of order may also have lost a page, a
    # mark too many may lie on that page, a page upside down may belong to
    # a forged copy. What the second one hides is caught by catching it.
    never_scanned = {(a["serial"], int(a["page"])) for a in anomalies if a["kind"] == "missing-page" and a["page"]}
    missing_flagged = {
        (serial, int(match.group(1)))
        for serial, detail in con.execute("SELECT serial, detail FROM flags WHERE field_id = '' AND reason = 'missing-page'")
        if (match := re.match(r"page (\d+)", detail))
    }
    for a in anomalies:
        kind = a["kind"]
        if kind == "not-returned":
            continue
        out[f"anomaly:{kind}"] += 1
        caught = False
        positions = [int(p) for p in a["position"].split(";") if p]
        if kind in FIELD_ANOMALIES and (a["serial"], page_of.get(a["field"], 0)) in never_scanned:
            caught = (a["serial"], page_of[a["field"]]) in missing_flagged
        elif kind in FIELD_ANOMALIES:
            caught = bool(flags.get((a["serial"], a["field"]), set()) & FIELD_ANOMALIES[kind])
            if kind in READ_RIGHT_CATCHES and a["serial"] in truth:
                caught = caught or answers.get((a["serial"], a["field"]), "") == truth[a["serial"]][a["field"]]
        elif kind == "missing-page":
            caught = "missing-page" in flags.get((a["serial"], ""), set())
        elif kind == "duplicate-page":
            caught = "duplicate-page" in flags.get((a["serial"], ""), set()) or any(
                r in ("duplicate-conflict",) for fs in [flags.get((a["serial"], f), set()) for f in field_ids] for r in fs
            )
        elif kind == "photocopy":
            caught = any("duplicate-conflict" in flags.get((a["serial"], f), set()) for f in field_ids) or bool(
                {"two-copies", "unread-copy"} & flags.get((a["serial"], ""), set())
            )
        elif kind == "forged":
            # Each page quarantined as forged, or (its code unreadable, found
            # by the printed serial) held in a form no reviewer can keep: no
            # signed code and a serial the ledger never issued.
            stored = [by_position.get((a["stack"], p), ("", "", "", 0)) for p in positions]
            caught = all(reason == "forged-code" or unproven(flags.get((serial, ""), set())) for _, reason, serial, _ in stored)
        elif kind in ("stray-page", "blank-page"):
            st = by_position.get((a["stack"], positions[0]))
            caught = st is not None and st[0] == "quarantined"
        elif kind == "upside-down":
            st = by_position.get((a["stack"], positions[0]))
            forged_page = (a["stack"], positions[0]) in forged_pages
            caught = st is not None and (st[0] == "ok" and st[3] == 180 or forged_page and st[1] == "forged-code")
        elif kind == "out-of-order":
            # Read in its order, it lacks no page but one that never reached the scanner.
            lacking = {(serial, page) for serial, page in missing_flagged if serial == a["serial"]}
            caught = status.get(a["serial"]) is not None and lacking <= never_scanned
        out[f"caught:{kind}"] += caught
    # Pages that are not pages of a form (blank backs, strays) or are forged
    # should be quarantined; any other page quarantined is a form page lost
    # to review, whatever the reason given (a form page taken for "not a
    # form" counts too).
    not_form_pages = {
        (a["stack"], int(p))
        for a in anomalies
        if a["kind"] in ("blank-page", "stray-page", "forged")
        for p in a["position"].split(";")
        if p
    }
    for position, (st, reason, _serial, _orient) in by_position.items():
        if st == "quarantined":
            out[f"quarantined:{reason}"] += 1
            if position not in not_form_pages:
                out["form_pages_quarantined"] += 1
                out[f"form_page_quarantined:{reason}"] += 1
    out["pages"] = len(by_position)
    # The counts (0 where nothing was counted), and the examples behind them.
    examples = {"examples": wrong_examples, "unseen_examples": unseen_examples, "clean_examples": clean_examples[:12]}
    return defaultdict(int, {**out, **examples})


def printed_forms(root: Path, forms: int) -> Secret:
    """``forms`` households' forms printed into ``root``/print (unless they
    are there already) with a signing secret of the bench's own, made once
    in ``root``/.secret and never printed; the secret."""
    root.mkdir(parents=True, exist_ok=True)
    secret_file = root / ".secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        secret_file.chmod(0o600)
    secret = Secret(secret_file.read_text(encoding="utf-8").encode())
    if not (root / "print" / "forms.pdf").exists():
        started = time.perf_counter()
        write_households(root / "h.csv", forms)
        print_batch(None, root / "h.csv", root / "print", secret, root / "ledger.sqlite")
        print(f"printed {forms} forms in {time.perf_counter() - started:.1f} s")
    return secret


def print_figures(name: str, r: dict, pages_read: int, seconds: float) -> None:
    """The figures ``evaluate`` gives of a stack read in ``seconds``, as lines to read."""
    print(f"== {name}: {pages_read} pages in {seconds:.1f} s ({pages_read / max(seconds, 1e-9):.1f} pages/s)")
    print(
        f"   silent errors: {r['silent']} in {r['answers']} answers = {1e4 * r['silent'] / max(1, r['answers']):.1f}"
        f" per 10,000 (an answer the scan does not show: {r['silent_unseen']});"
        f" comments accepted but wrong: {r['comments_accepted_wrong']} of {r['comments']}"
    )
    print(
        f"   forms without deliberate anomalies sent to review: {r['clean_to_review']} of {r['clean_forms']}"
        f" = {100 * r['clean_to_review'] / max(1, r['clean_forms']):.1f} %; without a handwritten comment:"
        f" {r['clean_no_comment_to_review']} of {r['clean_forms_no_comment']}"
        f" = {100 * r['clean_no_comment_to_review'] / max(1, r['clean_forms_no_comment']):.1f} %;"
        f" forms lost: {r['forms_lost']}"
    )
    no_comment = max(1, r["clean_forms_no_comment"])
    print(
        f"   of those without a comment, held although every answer was read right: {r['clean_no_comment_held_read_right']}"
        f" = {100 * r['clean_no_comment_held_read_right'] / no_comment:.1f} %"
        " (the rest would have been accepted with a wrong answer);"
        f" with an answer the scan does not show (no ink in or round its box, or its page unread):"
        f" {r['clean_no_comment_held_unseen']} = {100 * r['clean_no_comment_held_unseen'] / no_comment:.1f} %"
    )
    print(f"   comment text invented where nothing was written: {r['comments_invented']}")
    quarantined = sorted((k.split(":", 1)[1], n) for k, n in r.items() if k.startswith("quarantined:"))
    lost_form_pages = r["form_pages_quarantined"]
    lost_reasons = sorted((k.split(":", 1)[1], n) for k, n in r.items() if k.startswith("form_page_quarantined:"))
    print(
        f"   form pages quarantined (not blank, stray or forged): {lost_form_pages} of {r['pages']}"
        f" = {100 * lost_form_pages / max(1, r['pages']):.2f} % ({', '.join(f'{k} {n}' for k, n in lost_reasons)})"
    )
    print(
        f"   pages quarantined: {sum(n for _, n in quarantined)} of {r['pages']}"
        f" ({', '.join(f'{k} {n}' for k, n in quarantined) or 'none'})"
    )
    kinds = sorted(k.split(":", 1)[1] for k in r if k.startswith("anomaly:"))
    caught = ", ".join(f"{k} {r['caught:' + k]}/{r['anomaly:' + k]}" for k in kinds)
    print(f"   anomalies caught: {caught or 'none deliberate'}")
    reasons = sorted((k.split(":", 1)[1], n) for k, n in r.items() if k.startswith("clean_reason:"))
    if reasons:
        print(f"   flags on those forms: {', '.join(f'{k} {n}' for k, n in reasons)}")
    for example in r["clean_examples"]:
        print(f"   flagged clean form {example[0]} {example[1] or '(form)'}: {example[2]}")
    for example in r["examples"]:
        unseen = " (not on the scan)" if tuple(example[:2]) in r["unseen_examples"] else ""
        print(f"   silent: form {example[0]} {example[1]}: truth '{example[2]}' read '{example[3]}'{unseen}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forms", type=int, default=108)
    parser.add_argument("--profiles", default="clean,office,hard")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-ocr", action="store_true")
    parser.add_argument("--keep", type=Path, help="Keep printed forms and simulated stacks here and reuse them.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        secret = printed_forms(root, args.forms)
        for profile in args.profiles.split(","):
            if profile in VARIANTS:
                PROFILES.setdefault(profile, VARIANTS[profile])
            sim = root / f"sim-{profile}"
            if not (sim / "truth.csv").exists():
                simulate_returns(root / "print", sim, seed=args.seed, profile=profile)
            for stale in root.glob(f"{profile}.db*"):
                shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
            started = time.perf_counter()
            summary = scan_inputs(
                [sim / "scans"],
                root / f"{profile}.db",
                ReadOptions(secret, run_ocr=not args.no_ocr),
                ledger_path=root / "ledger.sqlite",
            )
            seconds = time.perf_counter() - started
            r = evaluate(sim, root / f"{profile}.db")
            print_figures(profile, r, summary.pages_read, seconds)


if __name__ == "__main__":
    main()
