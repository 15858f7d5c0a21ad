"""Registers the fake GCP outputs (tests/gcp/fakes.py) before any GCP test runs."""

from . import fakes  # noqa: F401 - registration happens on import
