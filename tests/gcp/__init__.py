"""GCP platform tests (a package, so its module names never clash with other clouds' tests)."""
