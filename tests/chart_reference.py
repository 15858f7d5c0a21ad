"""Where the tests get the pinned Airflow chart's `values.schema.json` and `values.yaml`.

Nothing outside the repository is required. In this order:

1. the folder named by AIRFLOW_CHART_REFERENCE (a local copy; an error if it lacks the files);
2. the cache (`$XDG_CACHE_HOME` or `~/.cache`, `airflow-platform/airflow-chart-<version>/`);
3. `../shared/reference/airflow-chart-<version>-reconstructed` beside the repository, where it exists;
4. the official chart repository: its Helm index (https://airflow.apache.org/index.yaml) names the
   tarball of the version and its sha256 digest; the two files are extracted into the cache. The
   connection gives up after DOWNLOAD_TIMEOUT_SECONDS, so a machine without that network skips (or,
   with CI=true, fails) within seconds.

The answer is a folder or the reason there is none (`Unavailable`), said in `make test`'s last lines.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

from components.versions import AIRFLOW_CHART_VERSION
from review.runner import ROOT

CHART_FILES = ("values.schema.json", "values.yaml")
ENVIRONMENT_VARIABLE = "AIRFLOW_CHART_REFERENCE"
# `helm repo add apache-airflow https://airflow.apache.org` reads this index.
CHART_REPOSITORY_INDEX = "https://airflow.apache.org/index.yaml"
DOWNLOAD_TIMEOUT_SECONDS = 10
SIBLING_COPY = ROOT.parent / "shared" / "reference" / f"airflow-chart-{AIRFLOW_CHART_VERSION}-reconstructed"


def cache_dir(version: str = AIRFLOW_CHART_VERSION) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "airflow-platform" / f"airflow-chart-{version}"


def howto(version: str = AIRFLOW_CHART_VERSION) -> str:
    return (
        f"let the tests reach {CHART_REPOSITORY_INDEX} once (they cache the chart in {cache_dir(version)}), "
        f"or copy values.schema.json and values.yaml from tag helm-chart/{version} of apache/airflow "
        f"(path chart/) into a folder and set {ENVIRONMENT_VARIABLE} to it"
    )


@dataclass(frozen=True)
class Unavailable:
    """Why no copy of the chart's files could be had, and how to provide one."""

    reason: str

    def message(self, version: str = AIRFLOW_CHART_VERSION) -> str:
        return f"the checks against chart {version}'s values.schema.json: {self.reason}; to run them, {howto(version)}"


def has_chart_files(directory: Path) -> bool:
    return all((directory / name).is_file() for name in CHART_FILES)


def locate(version: str = AIRFLOW_CHART_VERSION, sibling: Path = SIBLING_COPY) -> Path | Unavailable:
    """The first folder holding both files, fetching them into the cache if need be."""
    named = os.environ.get(ENVIRONMENT_VARIABLE)
    if named:
        if has_chart_files(Path(named)):
            return Path(named)
        return Unavailable(f"{ENVIRONMENT_VARIABLE}={named} lacks {' or '.join(CHART_FILES)}")
    for directory in (cache_dir(version), sibling):
        if has_chart_files(directory):
            return directory
    try:
        return download(version, cache_dir(version), CHART_REPOSITORY_INDEX)
    except (OSError, ValueError, KeyError, tarfile.TarError, yaml.YAMLError) as error:
        # urllib's URLError and timeouts are OSErrors: no network is the usual case here.
        return Unavailable(f"no local copy, and the download from {CHART_REPOSITORY_INDEX} failed: {error}")


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
        return bytes(response.read())


def download(version: str, target: Path, index_url: str) -> Path:
    """The chart's two files from the official repository into `target`, checked against the index's digest."""
    index = yaml.safe_load(_get(index_url))
    [entry] = [chart for chart in index["entries"]["airflow"] if chart["version"] == version]
    tarball_url = urllib.parse.urljoin(index_url, entry["urls"][0])
    if urllib.parse.urlsplit(tarball_url).scheme != "https":
        raise ValueError(f"refusing a chart tarball that is not https: {tarball_url}")
    tarball = _get(tarball_url)
    digest = hashlib.sha256(tarball).hexdigest()
    if digest != entry["digest"]:
        raise ValueError(f"{tarball_url}: sha256 {digest}, the index says {entry['digest']}")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Extracted beside the cache and renamed into place: two pytest processes may race.
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            for name in CHART_FILES:
                member = archive.extractfile(f"airflow/{name}")
                if member is None:
                    raise ValueError(f"{tarball_url} has no airflow/{name}")
                (staging / name).write_bytes(member.read())
        try:
            staging.rename(target)
        except OSError:
            if not has_chart_files(target):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
