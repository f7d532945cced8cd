"""The host folders a pod's container mounts, each at the same path, so its ``file://`` URIs work.

A container sees these folders of this machine, and no other:

- its output folders (the parent of each template output path), from the pod's own folder;
- its state folder (``ETL_STATE_DIR``: code fetched from blob storage) and the empty
  ``ETL_CONFIG_DIR``, read-only;
- the CA bundles ``SSL_CERT_FILE``, ``SSL_CERT_DIR``, ``REQUESTS_CA_BUNDLE`` and
  ``CURL_CA_BUNDLE`` name, read-only (behind a TLS-intercepting proxy pip needs them);
- every local ``file://`` argument; for the bundle's ``dataset.json`` its folder, writable
  (``code.requirements`` are installed beside the code), and the local storage the dataset
  names: each ``asset_storage`` read-only, its ``chunk_storage`` (else the profile's
  ``workflow.state_storage``) writable, made when missing.

When the container runs as another user than this process (this process is root), each writable
folder is handed to that user (:func:`chown_writable`, the folder itself, not its contents).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl.core.errors import StorageError
from etl.core.pod_contract import CONFIG_DIR_ENV, DATASET_FILE, PROFILE_JSON_ENV, STATE_DIR_ENV
from etl.core.storage.uris import BLOB_SCHEME, FILE_SCHEME, local_path_of
from etl.runner.executors import PodLaunch
from etl.runner.workflow_manifest import UnsupportedManifestError

__all__ = ["Mount", "chown_writable", "pod_mounts"]

CA_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@dataclass(frozen=True)
class Mount:
    """A host path bound into the container at ``target``."""

    source: Path
    target: str
    read_only: bool

    def option(self) -> list[str]:
        """The ``docker run --mount`` option (bind mounts of missing paths fail, never made)."""
        if "," in f"{self.source}{self.target}":
            raise UnsupportedManifestError(f"{self.source}: a path with ',' cannot be mounted")
        spec = f"type=bind,source={self.source},target={self.target}"
        return ["--mount", spec + (",readonly" if self.read_only else "")]


def pod_mounts(launch: PodLaunch, env: Mapping[str, str]) -> list[Mount]:
    """What the pod's container mounts, parents before children; ``env`` is its environment."""
    found: dict[str, Mount] = {}
    for mount in _candidates(launch, env):
        earlier = found.get(mount.target)
        if earlier is None or (earlier.read_only and not mount.read_only):
            found[mount.target] = mount
    return [found[t] for t in sorted(found, key=lambda t: (t.count("/"), t))]


def chown_writable(mounts: list[Mount], uid: int, gid: int) -> None:
    """Give the container's user each writable folder (not its contents)."""
    for mount in mounts:
        if not mount.read_only and mount.source.stat().st_uid != uid:
            os.chown(mount.source, uid, gid)


def _candidates(launch: PodLaunch, env: Mapping[str, str]) -> Iterator[Mount]:
    for output in launch.output_paths:
        folder = str(Path(output).parent)
        yield Mount(launch.work / "outputs" / folder.lstrip("/"), folder, read_only=False)
    state = Path(env[STATE_DIR_ENV])
    state.mkdir(parents=True, exist_ok=True)
    yield Mount(state, str(state), read_only=False)
    for name in (CONFIG_DIR_ENV, *CA_VARIABLES):
        if env.get(name) and Path(env[name]).exists():
            yield _same_path(Path(env[name]), read_only=True)
    for arg in launch.argv[1:]:
        if not arg.startswith(FILE_SCHEME):
            continue
        path = _local(arg)
        if path.name == DATASET_FILE and path.is_file():
            yield _same_path(path.parent, read_only=False)
            yield from _dataset_storage(json.loads(path.read_text()), env)
        elif path.exists():
            yield _same_path(path, read_only=True)


def _dataset_storage(document: dict[str, Any], env: Mapping[str, str]) -> Iterator[Mount]:
    """The local folders the bundle's collections read (assets) and write (chunks)."""
    profile = json.loads(env.get(PROFILE_JSON_ENV) or "{}")
    state_storage = (profile.get("workflow") or {}).get("state_storage")
    for collection in document.get("collections") or []:
        for storage in collection.get("asset_storage") or []:
            uri = str(storage.get("uri", ""))
            if uri and not uri.startswith(BLOB_SCHEME) and _local(uri).exists():
                yield _same_path(_local(uri), read_only=True)
        chunks = (collection.get("chunk_storage") or {}).get("uri") or state_storage
        if chunks and not str(chunks).startswith(BLOB_SCHEME):
            folder = _local(str(chunks))
            folder.mkdir(parents=True, exist_ok=True)
            yield _same_path(folder, read_only=False)


def _same_path(path: Path, *, read_only: bool) -> Mount:
    return Mount(path.resolve(), str(path.absolute()), read_only)


def _local(uri: str) -> Path:
    try:
        return local_path_of(uri)
    except StorageError as exc:
        raise UnsupportedManifestError(str(exc)) from None
