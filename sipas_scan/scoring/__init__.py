"""Scoring: the SIPAS indices of a records CSV, their intervals and the comparison
with a previous year (Lạng Sơn scheme, section 5.2; docs/formats.md)."""
