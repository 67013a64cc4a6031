"""sipas-scan: print, scan, review and score SIPAS paper surveys."""

__version__ = "0.1.0"
