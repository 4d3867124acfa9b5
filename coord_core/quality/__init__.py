"""Data quality: Great Expectations suites as the gate before analysis, row-level quarantine, reports.

Nothing here imports Great Expectations at module import (it takes seconds); the suites run
inside :func:`coord_core.quality.validate.validate_interval`.
"""
