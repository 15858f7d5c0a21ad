"""Registers the fake AWS outputs (tests/aws/fakes.py) before any AWS test runs."""

import fakes  # noqa: F401 - registration happens on import
