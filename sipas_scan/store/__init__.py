"""The database: the only code that talks SQL to it (the ledger, its own file, keeps its SQL in printing/ledger.py)."""
