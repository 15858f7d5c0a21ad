"""Where the chart's values.schema.json comes from (tests/chart_reference.py): no folder outside the repo needed."""

from __future__ import annotations

import hashlib
import io
import tarfile
import time
from pathlib import Path

import chart_reference
import pytest
import yaml
from chart_reference import CHART_FILES, Unavailable, download, locate

VERSION = "9.8.7"
INDEX_URL = "https://chart-index.example/index.yaml"


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every test starts with no local copy: its own cache folder, no AIRFLOW_CHART_REFERENCE."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(chart_reference.ENVIRONMENT_VARIABLE, raising=False)
    return tmp_path / "cache"


def chart_folder(path: Path, marker: str) -> Path:
    path.mkdir(parents=True)
    for name in CHART_FILES:
        (path / name).write_text(f"{marker}: {name}\n")
    return path


def chart_tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            member = tarfile.TarInfo(f"airflow/{name}")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def serve(monkeypatch: pytest.MonkeyPatch, tarball: bytes, digest: str | None = None) -> list[str]:
    """A chart repository whose index lists VERSION at a relative URL; returns the URLs fetched."""
    fetched: list[str] = []
    index = {
        "apiVersion": "v1",
        "entries": {
            "airflow": [
                {"version": "1.0.0", "urls": ["old.tgz"], "digest": "0" * 64},
                {
                    "version": VERSION,
                    "urls": [f"helm-chart/{VERSION}/airflow-{VERSION}.tgz"],
                    "digest": digest or hashlib.sha256(tarball).hexdigest(),
                },
            ]
        },
    }

    def get(url: str) -> bytes:
        fetched.append(url)
        return yaml.safe_dump(index).encode() if url == INDEX_URL else tarball

    monkeypatch.setattr(chart_reference, "_get", get)
    return fetched


def test_the_named_local_copy_comes_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    named = chart_folder(tmp_path / "named", "named")
    chart_folder(chart_reference.cache_dir(VERSION), "cached")
    monkeypatch.setenv(chart_reference.ENVIRONMENT_VARIABLE, str(named))
    assert locate(VERSION, sibling=tmp_path / "none") == named


def test_a_named_folder_without_the_files_is_an_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(chart_reference.ENVIRONMENT_VARIABLE, str(tmp_path))
    found = locate(VERSION, sibling=tmp_path / "none")
    assert isinstance(found, Unavailable)
    assert f"AIRFLOW_CHART_REFERENCE={tmp_path} lacks values.schema.json or values.yaml" in found.message(VERSION)


def test_the_cache_then_the_sibling_reference_copy(tmp_path: Path) -> None:
    sibling = chart_folder(tmp_path / "shared", "sibling")
    assert locate(VERSION, sibling=sibling) == sibling
    cached = chart_folder(chart_reference.cache_dir(VERSION), "cached")
    assert locate(VERSION, sibling=sibling) == cached


def test_the_pinned_version_is_fetched_from_the_chart_repository_into_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    files = {"values.schema.json": b'{"type": "object"}', "values.yaml": b"scheduler: {}\n", "Chart.yaml": b"x"}
    fetched = serve(monkeypatch, chart_tarball(files))
    target = chart_reference.cache_dir(VERSION)
    assert download(VERSION, target, index_url=INDEX_URL) == target
    assert fetched == [INDEX_URL, f"https://chart-index.example/helm-chart/{VERSION}/airflow-{VERSION}.tgz"]
    assert sorted(path.name for path in target.iterdir()) == sorted(CHART_FILES)
    assert (target / "values.yaml").read_bytes() == files["values.yaml"]
    # The next session reads the cache: no network.
    fetched.clear()
    assert locate(VERSION, sibling=tmp_path / "none") == target
    assert fetched == []


def test_a_tarball_that_does_not_match_the_index_digest_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, chart_tarball({name: b"{}" for name in CHART_FILES}), digest="f" * 64)
    target = chart_reference.cache_dir(VERSION)
    with pytest.raises(ValueError, match=r"the index says f{64}"):
        download(VERSION, target, index_url=INDEX_URL)
    assert not target.exists()


def test_no_network_means_unavailable_within_seconds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # `.invalid` never resolves (RFC 2606): the same failure as a machine that reaches only package registries.
    monkeypatch.setattr(chart_reference, "CHART_REPOSITORY_INDEX", "https://chart-index.invalid/index.yaml")
    started = time.monotonic()
    found = locate(VERSION, sibling=tmp_path / "none")
    assert time.monotonic() - started < chart_reference.DOWNLOAD_TIMEOUT_SECONDS
    assert isinstance(found, Unavailable)
    message = found.message(VERSION)
    assert "download from https://chart-index.invalid/index.yaml failed" in message
    assert "AIRFLOW_CHART_REFERENCE" in message and f"helm-chart/{VERSION}" in message
