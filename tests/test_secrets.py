"""Credentials: URL-encoded connection strings, Secrets sent as secrets."""

from __future__ import annotations

import json
from urllib.parse import unquote, urlsplit

import pulumi
import pytest
import stack_checks as checks

from components.airflow.secrets import GIT_CONNECTION_KEY, GIT_KNOWN_HOSTS_FILE, GIT_SSH_KEY
from components.platform import MetadataDatabase
from review.runner import run_main, run_program


@pytest.mark.parametrize("password", ["p@ss:w/rd?#%", "plain", "with space&x=1"])
def test_connection_url_encodes_the_password(password: str) -> None:
    database = MetadataDatabase(
        host="db.internal",
        port=5432,
        name="airflow",
        user="airflow",
        password=pulumi.Output.secret(password),
        sslmode="require",
    )
    run = run_program(lambda: pulumi.export("url", database.connection_url()), config={"cloud": "local"})
    url = urlsplit(run.exports["url"].value)
    assert run.exports["url"].secret
    assert unquote(url.password or "") == password
    assert (url.hostname, url.port, url.path, url.query) == ("db.internal", 5432, "/airflow", "sslmode=require")


def test_every_kubernetes_secret_sends_its_data_as_a_secret() -> None:
    config = {**checks.stack_config("local"), "dags": {"source": "git", "repo": "git@github.com:org/dags.git"}}
    run = run_main(config, stack="local-git")
    secrets = run.of_type(checks.SECRET_TYPE)
    assert len(secrets) == 7
    for secret in secrets:
        assert "stringData" in secret.secret_inputs, f"{secret.name}: stringData would be stored in plain text"


def test_strict_validation_rejects_unknown_fields() -> None:
    """The manifest check is only worth something if strict mode really rejects typos."""
    run = checks.shape_run("local")
    postgres = checks.manifest(run.one("kubernetes:apps/v1:StatefulSet"))
    postgres["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    with pytest.raises(Exception, match="imagePullPolice"):
        checks.kubernetes_validate.validate(postgres, checks.KUBERNETES_SCHEMA_VERSION, strict=True)


def test_a_git_dag_bundle_reads_the_deploy_key_from_the_git_ssh_secret_and_checks_host_keys() -> None:
    """`dags.source: bundle`: the bundle's connection holds the deploy key, so it lives in the
    Secret (sent as a secret), never in the values; host keys are checked, not trusted on first use."""
    config = {**checks.stack_config("local"), "dags": {"source": "bundle", "repo": "git@github.com:org/dags.git"}}
    run = run_main(config, stack="local-bundle")
    [git_ssh] = [s for s in run.of_type(checks.SECRET_TYPE) if s.inputs["metadata"]["name"].endswith("-git-ssh")]
    assert "stringData" in git_ssh.secret_inputs
    connection = json.loads(git_ssh.inputs["stringData"][GIT_CONNECTION_KEY])
    assert connection["conn_type"] == "git"
    assert connection["extra"]["private_key"] == git_ssh.inputs["stringData"][GIT_SSH_KEY]
    assert connection["extra"]["strict_host_key_checking"] == "yes"
    assert connection["extra"]["known_hosts_file"] == GIT_KNOWN_HOSTS_FILE
    values = json.dumps(run.one(checks.RELEASE_TYPE).inputs["values"])
    assert git_ssh.inputs["stringData"][GIT_SSH_KEY] not in values
