"""Data files for analysts: the records, codebook and flags, and the score tables, in office formats."""
