"""The database: the only code that writes it."""
