"""The throwaway repository of plan_repo.py, made once per session (each plan in it costs seconds).

Test modules import the helpers from `plan_repo`, never from this file: the
name `conftest` is shared with tests/conftest.py.
"""

from __future__ import annotations

import pytest
from plan_repo import DEV_FILE, PREDATES, PROD_FILE, Repo, copy_project, dev_change, prod_change


@pytest.fixture(scope="session")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    repo = Repo(tmp_path_factory.mktemp("project"))
    copy_project(repo.path)
    repo.write_known_stack_files()
    repo.git("init", "-q", "-b", "main")
    entry = repo.path / "review" / "__main__.py"
    kept = entry.read_text()
    entry.unlink()
    repo.commit("before make plan")
    repo.git("tag", PREDATES)
    entry.write_text(kept)
    repo.commit("the project")
    repo.edit_stack(DEV_FILE, dev_change)
    repo.edit_stack(PROD_FILE, prod_change)
    repo.commit("dev: bigger worker pool, another region, two API servers; prod: another VPC range")
    return repo
