"""Free-text comments for the report: grouped by theme, stripped of anything
that could point at a household.

Answers are anonymous (docs/formats.md): a comment is never shown next to a
household code, serial, place or the order forms came in. So comments are
grouped by theme only, sorted alphabetically, identical ones merged, and
anything that looks like an identifier (a household code or form id present
in the data, a phone number, an e-mail address, a long number) is replaced.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

REDACTED = "[đã ẩn]"

# Themes in priority order: a comment goes to the first one whose keywords it
# contains. Keywords are lower-case Vietnamese, matched on NFC text.
THEMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Tiếp nhận, giải quyết góp ý, phản ánh, kiến nghị", ("góp ý", "phản ánh", "kiến nghị", "khiếu nại")),
    ("Dịch vụ công trực tuyến, bưu chính", ("trực tuyến", "bưu điện", "bưu chính", "cổng dịch vụ", "qua mạng",
                                             "nhắn tin")),
    ("Trụ sở, trang thiết bị, tiếp cận dịch vụ", ("trụ sở", "phòng chờ", "ghế", "quạt", "điều hòa", "máy", "thiết bị",
                                                   "chỗ để xe", "đường vào", "giờ làm việc", "tiếng dân tộc")),
    ("Công chức trực tiếp giải quyết công việc", ("cán bộ", "công chức", "thái độ", "nhiệt tình", "hướng dẫn",
                                                  "giải thích")),
    ("Thủ tục hành chính, phí, thời gian", ("thủ tục", "hồ sơ", "giấy tờ", "phí", "thời gian", "rườm rà",
                                            "niêm yết", "chứng thực", "đi lại")),
    ("Kết quả giải quyết", ("kết quả", "đúng hẹn", "trễ hẹn", "chậm")),
)
OTHER_THEME = "Ý kiến khác"

# "No comment" written out is not a comment.
_NOTHING = re.compile(r"^\W*(không|ko|k)( có)?( ý kiến)?( gì)?( thêm| khác)?\W*$", re.IGNORECASE)
_PHONE = re.compile(r"(?<!\w)(\+?84|0)[\d .-]{8,12}\d(?!\w)")
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_LONG_NUMBER = re.compile(r"(?<!\w)\w*\d{4,}\w*(?!\w)")


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
    return _LONG_NUMBER.sub(lambda m: m.group(0) if m.group(0) == REDACTED else REDACTED, text)


def theme_of(comment: str) -> str:
    lowered = comment.lower()
    for theme, keywords in THEMES:
        if any(keyword in lowered for keyword in keywords):
            return theme
    return OTHER_THEME


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
