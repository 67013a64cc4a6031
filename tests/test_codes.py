from dataclasses import replace

import pytest

from sipas_scan.errors import SecretError
from sipas_scan.printing.cells import QR_QUIET_MODULES, qr_cells
from sipas_scan.printing.codes import (
    CodeError,
    PageCode,
    Secret,
    encode,
    format_payload,
    load_secret,
    make_serial,
    serial_is_valid,
    serial_number,
    signature,
    verify,
)


def test_a_signed_code_round_trips(secret):
    code = PageCode("sipas-household", make_serial(42), 3)
    assert verify(encode(code, secret), secret) == code
    assert verify(encode(code, secret), secret, survey="sipas-household") == code


@pytest.mark.parametrize("compact", [True, False], ids=["compact", "earlier"])
@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: replace(c, page=2),  # another page
        lambda c: replace(c, serial=make_serial(43)),  # another form
        lambda c: replace(c, survey="sipas-national-2023"),  # another survey
    ],
)
def test_a_tampered_code_fails_verification(secret, tamper, compact):
    code = PageCode("sipas-household", make_serial(42), 3)
    payload = _payload(code, signature(code, secret), compact)
    tampered = _payload(tamper(code), signature(code, secret), compact)
    assert tampered != payload
    with pytest.raises(CodeError) as caught:
        verify(tampered, secret)
    assert caught.value.reason == "forged-code"


@pytest.mark.parametrize("compact", [True, False], ids=["compact", "earlier"])
def test_an_altered_signature_fails_verification(secret, compact):
    code = PageCode("sipas-household", make_serial(42), 3)
    payload = _payload(code, signature(code, secret), compact)
    with pytest.raises(CodeError) as caught:
        verify(payload[:-1] + ("A" if payload[-1] != "A" else "B"), secret)
    assert caught.value.reason == "forged-code"


def _payload(code: PageCode, sig: str, compact: bool) -> str:
    """The code as printed now (compact) or on forms printed earlier."""
    return format_payload(code, sig) if compact else f"SIPAS1|{code.survey}|{code.serial}|{code.page}|{sig}"


def test_codes_printed_earlier_still_verify(secret):
    code = PageCode("sipas-household", make_serial(42), 3)
    assert verify(_payload(code, signature(code, secret), compact=False), secret) == code


def test_the_printed_code_is_a_small_alphanumeric_symbol(secret):
    # 29 modules a side (QR version 3) for either survey, instead of 37 for
    # the earlier byte-mode text: wider modules on the same printed square.
    for code in (PageCode("sipas-household", make_serial(42), 3), PageCode("sipas-national-2023", make_serial(99999), 12)):
        payload = encode(code, secret)
        assert payload.startswith("S2:") and verify(payload, secret) == code
        assert len(qr_cells(payload)) - 2 * QR_QUIET_MODULES == 29, payload
    # A survey id the alphanumeric mode cannot hold keeps the earlier text.
    odd = PageCode("Khảo_sát", make_serial(1), 1)
    assert encode(odd, secret).startswith("SIPAS1|") and verify(encode(odd, secret), secret) == odd


def test_a_code_signed_with_another_secret_fails(secret):
    payload = encode(PageCode("sipas-household", make_serial(1), 1), Secret(b"some-other-secret-123456"))
    with pytest.raises(CodeError, match="does not verify"):
        verify(payload, secret)


def test_a_code_of_another_survey_is_recognised(secret):
    payload = encode(PageCode("sipas-national-2023", make_serial(1), 1), secret)
    with pytest.raises(CodeError) as caught:
        verify(payload, secret, survey="sipas-household")
    assert caught.value.reason == "other-survey"


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "hello",
        "https://example.org",
        "SIPAS1|x|123|1|AAAA",
        "SIPAS1|x|0000018|p|A",
        "S2:000001901" + "A" * 16 + "X",
        "S2:0000018" + "A" * 16 + "X",
    ],
)
def test_foreign_or_malformed_codes_are_rejected(secret, payload):
    with pytest.raises(CodeError):
        verify(payload, secret)


def test_serials_carry_a_check_digit():
    assert make_serial(1) == "0000018"
    assert serial_number("0000018") == 1
    assert serial_is_valid(make_serial(123456))
    assert not serial_is_valid("0000019")
    assert not serial_is_valid("1234")
    # Every single-digit typo is caught.
    good = make_serial(4711)
    for i in range(len(good)):
        for digit in "0123456789":
            if digit != good[i]:
                assert not serial_is_valid(good[:i] + digit + good[i + 1 :])


def test_the_secret_is_required_strong_and_never_shown(monkeypatch):
    monkeypatch.delenv("SIPAS_SECRET", raising=False)
    with pytest.raises(SecretError, match="no signing secret"):
        load_secret(None)
    with pytest.raises(SecretError, match="too short"):
        load_secret("short")
    monkeypatch.setenv("SIPAS_SECRET", "from-the-environment-123")
    loaded = load_secret(None)
    assert loaded.key == b"from-the-environment-123"
    assert "from-the-environment" not in repr(loaded) and "from-the-environment" not in str(loaded)
    assert load_secret("given-on-the-command-line").key == b"given-on-the-command-line"
