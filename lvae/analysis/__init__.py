"""The analysis layer: what the book computes from run records (tables, statistics, verdicts)."""
