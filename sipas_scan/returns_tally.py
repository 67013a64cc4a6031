"""Returns counted against the sample: the records of the returns report and
``tally_returns``, which computes them (pure). Reading the ledger and the
database, and writing the CSVs and collection lists, is in returns.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sipas_scan.printing.ledger import IssuedForm
from sipas_scan.records import FormStatus

FormKey = tuple[str, str]  # (survey, serial)
PlaceKey = tuple[str, str, str, str, str]  # (survey, province, district, commune, village)

# Statuses in the results database, and how returns counts them.
HELD = "held"  # pages received but quarantined, so no form record yet
ACCEPTED = (FormStatus.ACCEPTED, FormStatus.RESOLVED)  # in the results
TO_REVIEW = (FormStatus.NEEDS_REVIEW, HELD)
REJECTED = (FormStatus.REJECTED,)


@dataclass(frozen=True)
class Received:
    """What the results database knows of one form."""

    status: str  # accepted | needs_review | resolved | rejected | held
    pages: frozenset[int]  # page numbers received (readable or not)


@dataclass(frozen=True)
class MissingForm:
    survey: str
    form: IssuedForm
    pages: tuple[int, ...] = ()  # () = the whole form is missing; else the pages not received


@dataclass
class Tally:
    """Per household, except ``printed`` (forms). ``received``: households
    with a form back; ``missing``: households with none."""

    printed: int = 0
    households: int = 0
    received: int = 0
    accepted: int = 0
    to_review: int = 0
    rejected: int = 0
    missing: int = 0
    incomplete: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def return_rate(self) -> float:
        """Households that returned a form as a percentage of households sent one."""
        return round(100.0 * self.received / self.households, 1) if self.households else 0.0

    @property
    def reprinted(self) -> int:
        """Forms printed beyond one per household (reprints for lost forms)."""
        return self.printed - self.households


@dataclass
class VillageReturns:
    place: PlaceKey
    tally: Tally = field(default_factory=Tally)
    missing: list[MissingForm] = field(default_factory=list)

    @property
    def survey(self) -> str:
        return self.place[0]


@dataclass(frozen=True)
class NotIssued:
    survey: str
    serial: str
    status: str
    pages_received: int


@dataclass
class ReturnsReport:
    villages: list[VillageReturns]
    communes: list[tuple[tuple[str, str, str, str], Tally]]  # (survey, province, district, commune)
    total: Tally
    not_issued: list[NotIssued]


def _place(survey: str, form: IssuedForm) -> PlaceKey:
    return (survey, *form.household.village_key)


def _best(statuses: list[str]) -> str:
    """A household's status when several of its forms came back: the one
    furthest on (in the results, then to review, then rejected)."""
    for group in (ACCEPTED, TO_REVIEW, REJECTED):
        for status in statuses:
            if status in group:
                return status
    return statuses[0]


def tally_returns(issued: dict[FormKey, IssuedForm], received: dict[FormKey, Received], page_counts: dict[str, int]) -> ReturnsReport:
    """Pure: issued forms and what came back -> the returns report.

    Counted per household: a household given a second form (a reprint for a
    lost one) has returned when any of its forms came back, and is listed as
    missing, under its latest serial, only when none did. ``printed`` counts
    forms, ``households`` the households they went to. ``page_counts`` gives
    each survey's pages per form; a survey missing from it is not checked for
    missing pages."""
    households: dict[tuple[str, ...], list[tuple[str, IssuedForm]]] = {}  # forms in issue order
    for (survey, serial), form in issued.items():
        household = (survey, *form.household.village_key, form.household.household_code)
        households.setdefault(household, []).append((serial, form))
    villages: dict[PlaceKey, VillageReturns] = {}
    for key, forms in households.items():
        survey, latest = key[0], forms[-1][1]
        village = villages.setdefault(_place(survey, latest), VillageReturns(_place(survey, latest)))
        t = village.tally
        t.printed += len(forms)
        t.households += 1
        got = [(form, received[(survey, serial)]) for serial, form in forms if (survey, serial) in received]
        if not got:
            t.missing += 1
            village.missing.append(MissingForm(survey, latest))
            continue
        t.received += 1
        status = _best([r.status for _, r in got])
        if status in ACCEPTED:
            t.accepted += 1
        elif status in REJECTED:
            t.rejected += 1
        else:
            t.to_review += 1
        count = page_counts.get(survey)
        lacking = [(tuple(p for p in range(1, count + 1) if p not in r.pages) if count else (), form) for form, r in got]
        fewest, form = min(lacking, key=lambda item: len(item[0]))
        if fewest:  # no form of the household came back whole
            t.incomplete += 1
            village.missing.append(MissingForm(survey, form, fewest))
    ordered = [villages[key] for key in sorted(villages)]
    for village in ordered:
        village.missing.sort(key=lambda m: m.form.serial)
    communes: dict[tuple[str, str, str, str], Tally] = defaultdict(Tally)
    total = Tally()
    for village in ordered:
        communes[village.place[:4]].add(village.tally)
        total.add(village.tally)
    not_issued = [
        NotIssued(survey, serial, got.status, len(got.pages))
        for (survey, serial), got in sorted(received.items())
        if (survey, serial) not in issued
    ]
    return ReturnsReport(ordered, sorted(communes.items()), total, not_issued)
