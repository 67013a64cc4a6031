"""Printing: render forms, sign page codes, keep the issued-serials ledger,
draw samples and write delivery lists."""
