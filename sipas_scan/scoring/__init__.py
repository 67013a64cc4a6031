"""Scoring: the SIPAS indices of a records CSV, their intervals and the comparison
with a previous year (seed 004, section 5.2; shared/DOMAIN.md)."""
