"""A PDF that will not open is told apart by PDFium's error code, not by the
words of its message."""

from __future__ import annotations

import pikepdf
import pypdfium2 as pdfium
import pytest

from sipas_scan.reading.sources import SourceError, open_source


def _one_page_pdf(path, **save):
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(path, **save)
    return path


def _reason(path) -> SourceError:
    with pytest.raises(SourceError) as caught:
        open_source(path)
    return caught.value


def test_a_pdf_locked_with_a_password_is_password_protected(tmp_path):
    locked = _one_page_pdf(tmp_path / "locked.pdf", encryption=pikepdf.Encryption(owner="o", user="u"))
    error = _reason(locked)
    assert (error.reason, str(error)) == ("password-protected", f"{locked}: the PDF is password-protected")


def test_a_damaged_pdf_is_corrupt_whatever_its_message_says(tmp_path, monkeypatch):
    damaged = _one_page_pdf(tmp_path / "damaged.pdf")

    def refuse(*args, **kwargs):
        # PDFium's format error, worded to mention a password: the code decides.
        raise pdfium.PdfiumError("Failed to load document (a password would not help).", err_code=pdfium.raw.FPDF_ERR_FORMAT)

    monkeypatch.setattr(pdfium, "PdfDocument", refuse)
    assert _reason(damaged).reason == "corrupt-pdf"


def test_a_truncated_pdf_is_corrupt(tmp_path):
    whole = _one_page_pdf(tmp_path / "whole.pdf").read_bytes()
    (tmp_path / "cut.pdf").write_bytes(whole[: len(whole) // 3])
    assert _reason(tmp_path / "cut.pdf").reason == "corrupt-pdf"
