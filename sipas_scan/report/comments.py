"""Free-text comments for the report: grouped by theme, stripped of anything
that could point at a household.

Answers are anonymous (docs/formats.md): a comment is never shown next to a
household code, serial, place or the order forms came in. So comments are
grouped by theme only, sorted alphabetically, identical ones merged, and
anything that looks like an identifier (a household code or form id present
in the data, a person's name after a form of address or a common family name,
a phone number, an e-mail address, a long number) is replaced.

Only what a person read is ever quoted: a comment box's machine reading
(OCR of handwriting) is often garbled, so a comment is quoted only when a
reviewer transcribed or confirmed it (the records' ``reviewed`` column names
the field); the others are only counted.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sipas_scan.records import REVIEWED
from sipas_scan.scoring.records_in import Record

REDACTED = "[đã ẩn]"

# Themes in priority order: a comment goes to the first one whose keywords it
# contains. Keywords are lower-case Vietnamese, matched on NFC text.
THEMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Tiếp nhận, giải quyết góp ý, phản ánh, kiến nghị", ("góp ý", "phản ánh", "kiến nghị", "khiếu nại")),
    ("Dịch vụ công trực tuyến, bưu chính", ("trực tuyến", "bưu điện", "bưu chính", "cổng dịch vụ", "qua mạng", "nhắn tin")),
    (
        "Trụ sở, trang thiết bị, tiếp cận dịch vụ",
        (
            "trụ sở",
            "phòng chờ",
            "ghế",
            "quạt",
            "điều hòa",
            "máy",
            "thiết bị",
            "chỗ để xe",
            "đường vào",
            "giờ làm việc",
            "tiếng dân tộc",
        ),
    ),
    ("Công chức trực tiếp giải quyết công việc", ("cán bộ", "công chức", "thái độ", "nhiệt tình", "hướng dẫn", "giải thích")),
    (
        "Thủ tục hành chính, phí, thời gian",
        ("thủ tục", "hồ sơ", "giấy tờ", "phí", "thời gian", "rườm rà", "niêm yết", "chứng thực", "đi lại"),
    ),
    ("Kết quả giải quyết", ("kết quả", "đúng hẹn", "trễ hẹn", "chậm")),
)
OTHER_THEME = "Ý kiến khác"

# "No comment" written out is not a comment.
_NOTHING = re.compile(r"^\W*(không|ko|k)( có)?( ý kiến)?( gì)?( thêm| khác)?\W*$", re.IGNORECASE)
_PHONE = re.compile(r"(?<!\w)(\+?84|0)[\d .-]{8,12}\d(?!\w)")
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_LONG_NUMBER = re.compile(r"(?<!\w)\w*\d{4,}\w*(?!\w)")
# A name: capitalised words after a form of address ("chị Lan", "ông Hoàng Văn Tú"),
# or after one of the common family names ("Nguyễn Văn A"). Which following
# words are capitalised is decided in code: character ranges cannot tell
# Vietnamese capitals from small letters.
_WORDS_AFTER = r"(?:\s+[^\W\d_]+){1,4}"
_NAME_AFTER_ADDRESS = re.compile(rf"(?<!\w)((?i:anh|chị|ông|bà|cô|chú|bác|cậu|dì|em|đồng chí|đ/c)){_WORDS_AFTER}")
_FAMILY_NAMES = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Lương",
    "Nông",
    "Hà",
    "Lò",
    "Triệu",
    "Đinh",
    "Mai",
    "Trịnh",
    "Đào",
    "Vi",
    "Lăng",
)
_FULL_NAME = re.compile(rf"(?<!\w)({'|'.join(_FAMILY_NAMES)}){_WORDS_AFTER}")


@dataclass(frozen=True)
class CommentGroup:
    theme: str
    # (comment, how many respondents wrote exactly it), alphabetical.
    comments: list[tuple[str, int]]

    @property
    def total(self) -> int:
        return sum(count for _, count in self.comments)


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def redact(text: str, identifiers: Iterable[str]) -> str:
    """``text`` without the given identifiers, phone numbers, e-mail addresses
    and long numbers (serials, ID card numbers)."""
    for identifier in sorted((i for i in identifiers if len(i) >= 3), key=len, reverse=True):
        text = re.sub(re.escape(identifier), REDACTED, text, flags=re.IGNORECASE)
    text = _EMAIL.sub(REDACTED, text)
    text = _PHONE.sub(REDACTED, text)
    text = _NAME_AFTER_ADDRESS.sub(lambda m: _mask_name(m, keep_first=True), text)
    text = _FULL_NAME.sub(lambda m: _mask_name(m, keep_first=False), text)
    return _LONG_NUMBER.sub(lambda m: m.group(0) if m.group(0) == REDACTED else REDACTED, text)


def _mask_name(match: re.Match[str], *, keep_first: bool) -> str:
    """The capitalised words after group 1 masked; the rest of the match kept."""
    words = match.group(0)[len(match.group(1)) :].split()
    capitals = 0
    while capitals < len(words) and words[capitals][0].isupper():
        capitals += 1
    if not capitals:
        return match.group(0)  # "anh em", "bà con": no name
    kept = [match.group(1)] if keep_first else []
    return " ".join([*kept, REDACTED, *words[capitals:]])


def _mentions(text: str, keyword: str) -> bool:
    """Whole words only: "phí" (fee) is not in "phía" (side)."""
    return re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", text) is not None


def theme_of(comment: str) -> str:
    """The theme whose keywords the comment mentions most; on a tie, the
    first in THEMES order."""
    lowered = unicodedata.normalize("NFC", comment).lower()
    best, hits = OTHER_THEME, 0
    for theme, keywords in THEMES:
        found = sum(_mentions(lowered, keyword) for keyword in keywords)
        if found > hits:
            best, hits = theme, found
    return best


def group_comments(texts: Iterable[str], identifiers: Iterable[str] = ()) -> list[CommentGroup]:
    """Themes in THEMES order (then 'other'), only those with comments."""
    identifiers = list(identifiers)
    counts: Counter[str] = Counter()
    for text in texts:
        comment = _normal(text)
        if not comment or _NOTHING.match(comment):
            continue
        counts[redact(comment, identifiers)] += 1
    by_theme: dict[str, list[tuple[str, int]]] = {}
    for comment in sorted(counts, key=str.casefold):
        by_theme.setdefault(theme_of(comment), []).append((comment, counts[comment]))
    order = [theme for theme, _ in THEMES] + [OTHER_THEME]
    return [CommentGroup(theme, by_theme[theme]) for theme in order if theme in by_theme]


@dataclass(frozen=True)
class Comments:
    """The comments of a report: the reviewed ones by theme, the rest counted."""

    groups: list[CommentGroup]
    # Boxes with writing that no reviewer transcribed or confirmed: never quoted.
    unreviewed: int

    @property
    def quoted(self) -> int:
        return sum(group.total for group in self.groups)


def reviewed_fields(record: Record) -> set[str]:
    """The fields whose value a reviewer set or confirmed (the ``reviewed`` column)."""
    return {field for field in record.columns.get(REVIEWED, "").split(";") if field}


def report_comments(records: Iterable[Record], text_fields: Iterable[str], identifiers: Iterable[str] = ()) -> Comments:
    text_fields = list(text_fields)
    quoted: list[str] = []
    unreviewed = 0
    for record in records:
        reviewed = reviewed_fields(record)
        for field in text_fields:
            text = record.answers.get(field, "")
            if not text.strip():
                continue
            if field in reviewed:
                quoted.append(text)
            else:
                unreviewed += 1
    return Comments(group_comments(quoted, identifiers), unreviewed)
