"""airflow-platform-bootstrap: run once, locally, by a platform engineer (README "CI/CD")."""

import sys
from pathlib import Path

# Pulumi runs this file from bootstrap/: the repository root holds the `bootstrap`
# package and the shared config validation (components/validation.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi

from bootstrap.program import create_bootstrap
from bootstrap.settings import load_settings

create_bootstrap(load_settings(), stack=pulumi.get_stack())
