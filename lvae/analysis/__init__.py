"""The analysis layer: tables, statistics and verdicts computed from run records."""
