"""The survey model: what a questionnaire asks, independent of paper.

Printing lays it out (layout.py), reading measures with that layout, scoring
reads the index hierarchy from ``Survey.index``. Nothing here knows about
millimetres.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

QuestionKind = Literal["single", "multi", "text"]


def sort_codes(codes: list[str] | set[str] | tuple[str, ...]) -> list[str]:
    """Ascending, numerically where the codes are numbers (docs/formats.md: '1;2;10')."""
    return sorted(codes, key=lambda c: (0, int(c), "") if c.isdigit() else (1, 0, c))


def join_codes(codes: list[str] | set[str] | tuple[str, ...]) -> str:
    """Codes as a records-CSV value: ascending, joined by ';'."""
    return ";".join(sort_codes(codes))


@dataclass(frozen=True)
class Option:
    code: str
    label: str


@dataclass(frozen=True)
class Scale:
    """A named answer scale shared by many questions, e.g. the 5 levels."""

    name: str
    options: tuple[Option, ...]
    # Codes that count as satisfied in an index (4 and 5 on the SIPAS scale).
    positive: tuple[str, ...] = ()


@dataclass(frozen=True)
class Condition:
    """A filter: the question applies only if ``question`` was answered with
    one of ``codes``."""

    question: str
    codes: tuple[str, ...]

    def holds(self, answer: str | None) -> bool:
        if not answer:
            return False
        return any(code in self.codes for code in answer.split(";"))


@dataclass(frozen=True)
class Question:
    """One answerable field: a single-choice, multiple-choice or text box.

    Grid rows are Questions too (kind ``single``, options from the grid's
    scale, ``grid`` naming the grid they belong to).
    """

    id: str
    kind: QuestionKind
    text: str
    label: str
    options: tuple[Option, ...] = ()
    max_choices: int | None = None
    lines: int = 0
    applies_if: Condition | None = None
    columns: int | None = None
    note: str = ""
    scale: str | None = None
    positive: tuple[str, ...] = ()
    grid: str | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(option.code for option in self.options)


@dataclass(frozen=True)
class Grid:
    """Many rows sharing one scale, printed as a table with a box per cell."""

    id: str
    text: str
    label: str
    scale: str
    options: tuple[Option, ...]
    rows: tuple[Question, ...]
    applies_if: Condition | None = None
    note: str = ""


Item = Question | Grid


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    items: tuple[Item, ...]
    note: str = ""


@dataclass(frozen=True)
class IndexNode:
    """A node of the index hierarchy: the overall index, an area, a factor.

    A node either groups other nodes (``children``) or lists criteria
    (question ids); its index is computed over all criteria beneath it.
    """

    id: str
    label: str
    children: tuple[IndexNode, ...] = ()
    criteria: tuple[str, ...] = ()

    def all_criteria(self) -> tuple[str, ...]:
        found = list(self.criteria)
        for child in self.children:
            found.extend(child.all_criteria())
        return tuple(found)

    def walk(self) -> Iterator[IndexNode]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Survey:
    id: str
    version: str
    title: str
    short_title: str
    subtitle: str
    intro: tuple[str, ...]
    instructions: tuple[str, ...]
    closing: str
    scales: dict[str, Scale]
    sections: tuple[Section, ...]
    index: IndexNode | None
    source_path: str = ""
    # The issuing body's header for page 1 ("UBND TỈNH LẠNG SƠN", "SỞ NỘI VỤ"); printed only when given.
    issuer: tuple[str, ...] = ()
    _fields_by_id: dict[str, Question] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._fields_by_id.update({question.id: question for question in self.fields()})

    def fields(self) -> list[Question]:
        """Every answerable field in survey order, grid rows expanded."""
        found: list[Question] = []
        for section in self.sections:
            for item in section.items:
                if isinstance(item, Grid):
                    found.extend(item.rows)
                else:
                    found.append(item)
        return found

    def grids(self) -> list[Grid]:
        return [item for section in self.sections for item in section.items if isinstance(item, Grid)]

    def field(self, field_id: str) -> Question:
        return self._fields_by_id[field_id]

    def field_ids(self) -> list[str]:
        return [question.id for question in self.fields()]
