"""Fetch a workflow's code bundle: its dataset document, code and installed requirements.

The compiler passes ``--dataset <bundle>/dataset.json``; next to it are ``code/`` (the dataset's
``code.src``), ``requirements.txt`` and ``templates/`` (layout in ``docs/internals.md``). A remote
bundle is content-addressed, so it is fetched once per machine into ``$ETL_STATE_DIR/bundles/`` and
its requirements are installed beside it with pip (``--target``), never into etl's own environment.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl.core.errors import ConfigError, TaskError, UnknownCollectionError
from etl.core.paths import state_dir
from etl.core.pod_contract import CODE_DIR, DATASET_FILE, REQUIREMENTS_FILE, Flag
from etl.core.storage.base import Storage
from etl.core.storage.uris import BLOB_SCHEME, local_path_of
from etl.dataset.model import CollectionConfig, DatasetConfig
from etl.task.environment import TaskEnvironment

__all__ = ["FetchedBundle", "add_bundle_arguments", "fetch_bundle"]


@dataclass(frozen=True)
class FetchedBundle:
    """A bundle on this machine: the dataset document, and where its code and templates are."""

    uri: str
    dataset: DatasetConfig
    storage: Storage
    local_root: Path
    code_dir: Path | None = None
    digest: str | None = None
    """The bundle's digest (its folder's name); ``None`` for a ``dataset.yaml`` run by hand."""

    def collection(self, collection_id: str) -> CollectionConfig:
        """The dataset's collection ``collection_id``.

        Raises:
            UnknownCollectionError: the dataset has no such collection.
        """
        for collection in self.dataset.collections:
            if collection.id == collection_id:
                return collection
        raise UnknownCollectionError(collection_id, [c.id for c in self.dataset.collections])

    @property
    def search_path(self) -> list[Path]:
        """Where the dataset's code (and its installed requirements) is imported from."""
        code = self.code_dir or self.local_root / CODE_DIR
        return [p for p in (self.local_root / "site-packages", code) if p.exists()]


def add_bundle_arguments(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """The ``--dataset`` and ``--collection`` arguments every dataset subcommand takes.

    Args:
        parser: The subcommand's parser.
        required: Whether argparse requires them (``ingest-collection`` also takes ``--file``).
    """
    parser.add_argument(
        Flag.DATASET,
        required=required,
        help="the bundle's resolved dataset.json (URI or path); by hand, a dataset.yaml or its "
        "folder also works",
    )
    parser.add_argument(Flag.COLLECTION, required=required, help="the collection id")


def fetch_bundle(
    dataset_uri: str, environment: TaskEnvironment, *, with_code: bool = True
) -> FetchedBundle:
    """Read the bundle whose ``dataset.json`` is at ``dataset_uri``; fetch its code and install
    its requirements unless ``with_code`` is false (a task that makes no items needs neither).

    For debugging by hand, ``dataset_uri`` may also be a local ``dataset.yaml`` (or its folder):
    it is loaded and templated as ``etl`` does, and its code is imported from where it lies.
    """
    if not dataset_uri.endswith(DATASET_FILE):
        return _from_dataset_yaml(Path(dataset_uri), environment)
    root_uri = dataset_uri[: -len(DATASET_FILE)].rstrip("/") or "."
    storage = environment.storage(root_uri)
    document: dict[str, Any] = json.loads(storage.read_text(DATASET_FILE))
    dataset = DatasetConfig.model_validate(document)
    local_root = Path(".")
    if with_code:
        local_root = _local_copy(storage, root_uri)
        _install_requirements(local_root)
    return FetchedBundle(
        uri=root_uri,
        dataset=dataset,
        storage=storage,
        local_root=local_root,
        digest=root_uri.rstrip("/").rsplit("/", 1)[-1],
    )


def _from_dataset_yaml(path: Path, environment: TaskEnvironment) -> FetchedBundle:
    from etl.core.storage.opening import open_storage
    from etl.dataset.loader import load_dataset

    loaded = load_dataset(path, profile=environment.profile, env=environment.env)
    folder = loaded.folder
    collections = [
        c.model_copy(update={"template": _relative_to(c.template, folder)}) if c.template else c
        for c in loaded.config.collections
    ]
    dataset = loaded.config.model_copy(update={"collections": collections})
    code_dirs = loaded.code_search_path()
    return FetchedBundle(
        uri=folder.as_uri(),
        dataset=dataset,
        storage=open_storage(str(folder)),
        local_root=folder,
        code_dir=code_dirs[0] if code_dirs else folder,
    )


def _relative_to(path: str, folder: Path) -> str:
    candidate = Path(path)
    if not candidate.is_absolute():
        return path
    try:
        return candidate.relative_to(folder).as_posix()
    except ValueError:
        raise ConfigError(
            f"template {path} lies outside the dataset folder {folder}", field="template"
        ) from None


def _local_copy(storage: Storage, root_uri: str) -> Path:
    if not root_uri.startswith(BLOB_SCHEME):
        return local_path_of(root_uri)
    digest = hashlib.sha256(root_uri.encode()).hexdigest()[:20]
    target = state_dir() / "bundles" / digest
    marker = target / ".complete"
    if marker.exists():
        return target
    for info in storage.list_objects(f"{CODE_DIR}/"):
        destination = target / info.path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(storage.read_bytes(info.path))
    if storage.exists(REQUIREMENTS_FILE):
        (target / REQUIREMENTS_FILE).write_bytes(storage.read_bytes(REQUIREMENTS_FILE))
    target.mkdir(parents=True, exist_ok=True)
    marker.write_text(root_uri)
    return target


def _install_requirements(root: Path) -> None:
    requirements = root / REQUIREMENTS_FILE
    if requirements.exists():
        site = root / "site-packages"
        marker = site / ".installed"
        if not marker.exists():
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--target",
                    str(site),
                    "-r",
                    str(requirements),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                last = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
                raise TaskError(f"installing the dataset's requirements failed: {last}")
            marker.write_text("ok")
