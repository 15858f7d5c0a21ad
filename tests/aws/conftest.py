"""Registers the fake AWS outputs (tests/aws/fakes.py) before any AWS test runs."""

from . import fakes  # noqa: F401 - registration happens on import
