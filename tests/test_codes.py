import pytest

from sipas_scan.errors import SecretError
from sipas_scan.printing.codes import (
    CodeError,
    PageCode,
    Secret,
    encode,
    load_secret,
    make_serial,
    serial_is_valid,
    serial_number,
    verify,
)


def test_a_signed_code_round_trips(secret):
    code = PageCode("sipas-household", make_serial(42), 3)
    assert verify(encode(code, secret), secret) == code
    assert verify(encode(code, secret), secret, survey="sipas-household") == code


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p.replace("|3|", "|2|"),  # another page
        lambda p: p.replace(make_serial(42), make_serial(43)),  # another form
        lambda p: p.replace("sipas-household", "sipas-national-2023"),  # another survey
        lambda p: p[:-1] + ("A" if p[-1] != "A" else "B"),  # altered signature
    ],
)
def test_a_tampered_code_fails_verification(secret, tamper):
    payload = encode(PageCode("sipas-household", make_serial(42), 3), secret)
    tampered = tamper(payload)
    assert tampered != payload
    with pytest.raises(CodeError) as caught:
        verify(tampered, secret)
    assert caught.value.reason == "forged-code"


def test_a_code_signed_with_another_secret_fails(secret):
    payload = encode(PageCode("sipas-household", make_serial(1), 1), Secret(b"some-other-secret-123456"))
    with pytest.raises(CodeError, match="does not verify"):
        verify(payload, secret)


def test_a_code_of_another_survey_is_recognised(secret):
    payload = encode(PageCode("sipas-national-2023", make_serial(1), 1), secret)
    with pytest.raises(CodeError) as caught:
        verify(payload, secret, survey="sipas-household")
    assert caught.value.reason == "other-survey"


@pytest.mark.parametrize("payload", ["", "hello", "https://example.org", "SIPAS1|x|123|1|AAAA", "SIPAS1|x|0000018|p|A"])
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
