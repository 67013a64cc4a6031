"""Signed page codes: what the QR code on every printed page carries.

Payload: ``S2:<serial><page><signature><SURVEY>`` (the page in two digits,
the survey id in capitals), where the signature is HMAC-SHA256 over survey,
serial and page with the survey secret, cut to 80 bits and written in base32.
Capitals, digits and the few signs QR's alphanumeric mode holds take 5.5 bits
a character instead of 8: the symbol needs 29 modules a side instead of 37,
and its modules are a quarter wider on the same square (simulated hard
returns scanned black and white at 150 dpi: pages whose code could not be
read fell from 65 % to 39 %; toner spread 2 px there fills the white
modules of either). Forms printed
earlier carry ``SIPAS1|<survey>|<serial>|<page>|<signature>``; both are read.
Anyone can read the code; only the holder of the secret can make one that
verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from sipas_scan import defs
from sipas_scan.errors import ReasonedError, SecretError


class CodeError(ReasonedError):
    """A page code that cannot be trusted."""


@dataclass(frozen=True)
class PageCode:
    survey: str
    serial: str
    page: int


@dataclass(frozen=True, repr=False)
class Secret:
    """The signing key. Its repr never shows the key, so it cannot leak
    into logs or tracebacks by accident."""

    key: bytes

    def __repr__(self) -> str:
        return "Secret(***)"


def load_secret(value: str | None) -> Secret:
    """The secret from ``--secret`` or, failing that, $SIPAS_SECRET."""
    value = value if value is not None else os.environ.get(defs.SECRET_ENV_VAR)
    if not value:
        raise SecretError(f"no signing secret: pass --secret or set {defs.SECRET_ENV_VAR}")
    if len(value) < defs.MIN_SECRET_LENGTH:
        raise SecretError(f"the signing secret is too short: use at least {defs.MIN_SECRET_LENGTH} characters")
    return Secret(value.encode("utf-8"))


def signature(code: PageCode, secret: Secret) -> str:
    message = f"{code.survey}|{code.serial}|{code.page}".encode()
    digest = hmac.new(secret.key, message, hashlib.sha256).digest()[: defs.SIGNATURE_BYTES]
    return base64.b32encode(digest).decode("ascii").rstrip("=")


_COMPACT_SURVEY = re.compile(r"[a-z0-9.-]+")  # a survey id QR's alphanumeric mode holds in capitals
_SIGNATURE_CHARS = -(-defs.SIGNATURE_BYTES * 8 // 5)  # base32, padding stripped
# Fixed widths first, the survey last: no separator needed between them.
_COMPACT = re.compile(
    rf"{defs.COMPACT_CODE_PREFIX}:(\d{{{defs.SERIAL_DIGITS + 1}}})(\d{{2}})([A-Z2-7]{{{_SIGNATURE_CHARS}}})([A-Z0-9.-]+)"
)


def format_payload(code: PageCode, signature_text: str) -> str:
    """The QR text for a code and a signature (verify() decides if they match)."""
    compact = f"{defs.COMPACT_CODE_PREFIX}:{code.serial}{code.page:02d}{signature_text}{code.survey.upper()}"
    if _COMPACT_SURVEY.fullmatch(code.survey) and _COMPACT.fullmatch(compact):
        return compact
    return f"{defs.CODE_PREFIX}|{code.survey}|{code.serial}|{code.page}|{signature_text}"


def encode(code: PageCode, secret: Secret) -> str:
    return format_payload(code, signature(code, secret))


def parse(payload: str) -> tuple[PageCode, str]:
    """Split a payload into its code and claimed signature, without verifying."""
    compact = _COMPACT.fullmatch(payload.strip())
    if compact:
        serial, page, sig, survey = compact.groups()
        if not serial_is_valid(serial):
            raise CodeError("malformed-code", "the form code is malformed (serial or page number)")
        return PageCode(survey.lower(), serial, int(page)), sig
    parts = payload.strip().split("|")
    if len(parts) != 5 or parts[0] != defs.CODE_PREFIX:
        raise CodeError("not-a-form-code", "the QR code is not a SIPAS form code")
    _, survey, serial, page, sig = parts
    if not page.isdigit() or not serial_is_valid(serial):
        raise CodeError("malformed-code", "the form code is malformed (serial or page number)")
    return PageCode(survey, serial, int(page)), sig


def verify(payload: str, secret: Secret, *, survey: str | None = None) -> PageCode:
    """The page code if its signature verifies (and, if given, the survey matches).

    Raises CodeError with reason ``forged-code`` or ``other-survey``.
    """
    code, sig = parse(payload)
    if not hmac.compare_digest(sig, signature(code, secret)):
        raise CodeError(
            "forged-code",
            f"the code of form {code.serial} page {code.page} does not verify (forged, altered or signed with another secret)",
        )
    if survey is not None and code.survey != survey:
        raise CodeError("other-survey", f"the page belongs to survey '{code.survey}', not '{survey}'")
    return code


# ---- serials --------------------------------------------------------------


def luhn_digit(number: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def make_serial(n: int) -> str:
    """Serial number ``n`` as six digits and a Luhn check digit: 12 -> '0000125'."""
    if not 0 < n < 10**defs.SERIAL_DIGITS:
        raise ValueError(f"serial number {n} out of range")
    body = f"{n:0{defs.SERIAL_DIGITS}d}"
    return body + luhn_digit(body)


def serial_is_valid(serial: str) -> bool:
    return len(serial) == defs.SERIAL_DIGITS + 1 and serial.isdigit() and luhn_digit(serial[:-1]) == serial[-1]


def serial_number(serial: str) -> int:
    return int(serial[:-1])
