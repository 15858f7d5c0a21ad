"""Credentials: URL-encoded connection strings, Secrets sent as secrets."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pulumi
import pytest
import stack_checks as checks

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
    run = run_main(checks.stack_config("local"), stack="local")
    postgres = checks.manifest(run.one("kubernetes:apps/v1:StatefulSet"))
    postgres["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    with pytest.raises(Exception, match="imagePullPolice"):
        checks.kubernetes_validate.validate(postgres, checks.KUBERNETES_SCHEMA_VERSION, strict=True)
