"""Outputs a real provider would return for what the program reads, per cloud.

Importing this package registers every cloud's fakes with the mock runner.
"""

from review.fakes import aws, bootstrap, gcp

__all__ = ["aws", "bootstrap", "gcp"]
