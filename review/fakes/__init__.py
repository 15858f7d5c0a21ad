"""Outputs a real provider would return for what the program reads, per cloud.

Importing this package registers every cloud's fakes with the mock runner.
"""

from review.fakes import aws, gcp

__all__ = ["aws", "gcp"]
