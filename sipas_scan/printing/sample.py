"""A reproducible random draw of households from a household register.

The same register and seed always give the same households, whatever the
order of the register's rows: each village is drawn on its own, from its
households sorted by code, with a generator seeded from the seed and the
village's name.
"""

from __future__ import annotations

import csv
import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sipas_scan.errors import BadArgsError
from sipas_scan.printing.households import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, Household, read_households


@dataclass(frozen=True)
class SampleSummary:
    villages: int
    drawn: int
    short_villages: list[tuple[str, int]]  # villages with fewer households than asked


def _village_rng(seed: int, village_key: tuple[str, ...]) -> random.Random:
    digest = hashlib.sha256("|".join((str(seed), *village_key)).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def draw_sample(households: list[Household], per_village: int, seed: int) -> tuple[list[Household], SampleSummary]:
    """``per_village`` households from every village (all of them where fewer),
    villages in order of first appearance, households by code within a village."""
    if per_village < 1:
        raise BadArgsError("--per-village must be at least 1")
    by_village: dict[tuple[str, ...], list[Household]] = defaultdict(list)
    for household in households:
        by_village[household.village_key].append(household)
    drawn: list[Household] = []
    short = []
    for key, members in by_village.items():
        members = sorted(members, key=lambda h: h.household_code)
        if len(members) <= per_village:
            chosen = members
            if len(members) < per_village:
                short.append((" / ".join(key), len(members)))
        else:
            chosen = sorted(_village_rng(seed, key).sample(members, per_village), key=lambda h: h.household_code)
        drawn.extend(chosen)
    return drawn, SampleSummary(len(by_village), len(drawn), short)


def write_households(path: Path, households: list[Household]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
        for h in households:
            writer.writerow((*h.village_key, h.household_code, h.head_name, h.address))


def sample_register(register: Path, per_village: int, seed: int, out: Path) -> SampleSummary:
    drawn, summary = draw_sample(read_households(register), per_village, seed)
    write_households(out, drawn)
    return summary
