"""The shared data volume task pods mount: Filestore (RWX) or a persistent disk (RWO)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.validation import Problems

# StorageClasses GKE installs: `standard-rwx` once the Filestore CSI driver
# add-on is enabled (Basic HDD tier), `standard-rwo` always (pd-balanced,
# WaitForFirstConsumer).
FILESTORE_CLASS = "standard-rwx"
PD_CLASS = "standard-rwo"
# A Basic HDD Filestore instance - one per PVC with standard-rwx - starts at
# 1 TiB and is billed for its full capacity.
FILESTORE_MIN_GIB = 1024
_QUANTITY = re.compile(r"^(?P<number>\d+)(?P<unit>Mi|Gi|Ti)$")
_GIB = {"Mi": 1 / 1024, "Gi": 1, "Ti": 1024}


@dataclass(frozen=True)
class SharedVolume:
    storage_class: str
    access_mode: str


def shared_volume(shared_storage: str) -> SharedVolume:
    """Filestore: any number of task pods on any node. PD: every pod that
    mounts it must run on the node it is attached to (ReadWriteOnce)."""
    if shared_storage == "filestore":
        return SharedVolume(storage_class=FILESTORE_CLASS, access_mode="ReadWriteMany")
    return SharedVolume(storage_class=PD_CLASS, access_mode="ReadWriteOnce")


def check_shared_volume_size(problems: Problems, key: str, shared_storage: str, size: str) -> None:
    """Filestore rejects a claim below its minimum; say so before anything is created."""
    match = _QUANTITY.match(size)
    if shared_storage != "filestore" or match is None:
        return
    if int(match.group("number")) * _GIB[match.group("unit")] < FILESTORE_MIN_GIB:
        problems.add(
            key,
            size,
            "at least 1Ti with gcp.sharedStorage: filestore (Filestore's minimum instance size, "
            "billed in full); or set gcp.sharedStorage: pd",
        )
