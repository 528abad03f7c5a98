"""Speed measurements, run by hand or with ``make bench`` (never timed assertions in tests)."""
