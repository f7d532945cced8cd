"""The code bundle: what a workflow's pods fetch to run a dataset.

At submit the dataset's local files and its resolved document are uploaded, content-addressed, to
the profile's code storage; rendering computes the same address without uploading. Layout under
``{workflow.code_storage}/{dataset id}/{digest}/`` (see ``docs/internals.md``; the names are
:mod:`etl.core.pod_contract`'s, which the pods read them by)::

    dataset.json                    the resolved dataset (args applied, secrets still references),
                                    its local paths rewritten to the bundle-relative ones below
    code/<name of code.src>         the module file or package folder of code.src
    requirements.txt                code.requirements, when given
    templates/<collection id>/...   each collection's template file or folder

The digest is a SHA-256 over every file's bundle path and content, so the same inputs give the same
URI on every machine and a changed byte gives a new one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl.core.errors import ProfileError
from etl.core.paths import state_dir
from etl.core.pod_contract import CODE_DIR, DATASET_FILE, REQUIREMENTS_FILE, TEMPLATES_DIR
from etl.core.profiles.model import Profile, RunnerKind
from etl.core.storage.uris import BLOB_SCHEME, FILE_SCHEME, file_uri, local_path_of
from etl.dataset.loader import LoadedDataset

__all__ = [
    "BundleFile",
    "CodeBundle",
    "bundle_digest",
    "bundle_root",
    "plan_bundle",
    "upload_bundle",
]

_DIGEST_CHARS = 20
_SKIPPED_PARTS = frozenset({"__pycache__", ".git", ".mypy_cache", ".pytest_cache", ".ruff_cache"})


@dataclass(frozen=True)
class BundleFile:
    """One file of a bundle: its path inside the bundle and its bytes."""

    path: str
    content: bytes


@dataclass(frozen=True)
class CodeBundle:
    """A planned bundle: its files, digest and where it lives.

    Attributes:
        files: Every file, sorted by path; ``dataset.json`` among them.
        digest: The content hash naming the bundle.
        uri: The bundle's folder URI, ``{code storage}/{dataset id}/{digest}``.
    """

    files: tuple[BundleFile, ...]
    digest: str
    uri: str

    @property
    def dataset_uri(self) -> str:
        """The URI ``etl-task --dataset`` reads."""
        return f"{self.uri}/{DATASET_FILE}"

    def file(self, path: str) -> BundleFile:
        """The file at bundle path ``path``.

        Raises:
            KeyError: There is none.
        """
        for bundle_file in self.files:
            if bundle_file.path == path:
                return bundle_file
        raise KeyError(path)


def bundle_root(profile: Profile) -> str:
    """Where bundles go: ``workflow.code_storage``; for a local runner, a folder of the state dir.

    Raises:
        ProfileError: An Argo profile has no ``workflow.code_storage``.
    """
    root = profile.workflow.code_storage
    if root:
        if not root.startswith((BLOB_SCHEME, FILE_SCHEME)):
            raise ProfileError(
                f"profile {profile.name!r}: workflow.code_storage must be a blob:// or file:// URI,"
                f" got {root!r}"
            )
        return root.rstrip("/")
    if profile.runner is RunnerKind.LOCAL:
        return file_uri(state_dir() / "bundles")
    raise ProfileError(
        f"profile {profile.name!r}: set workflow.code_storage (a blob:// URI the cluster can read)"
        " so pods can fetch the dataset's code"
    )


def _local_path(dataset: LoadedDataset, value: str, field: tuple[str | int, ...]) -> Path:
    path = local_path_of(value) if value.startswith(FILE_SCHEME) else dataset.resolve_path(value)
    if not path.exists():
        raise dataset.error(field, f"{path} does not exist")
    return path


def _files_under(path: Path, bundle_path: str) -> Iterator[BundleFile]:
    if path.is_file():
        yield BundleFile(bundle_path, path.read_bytes())
        return
    for child in sorted(path.rglob("*")):
        relative = child.relative_to(path)
        if (
            child.is_file()
            and not _SKIPPED_PARTS.intersection(relative.parts)
            and child.suffix != ".pyc"
        ):
            yield BundleFile(f"{bundle_path}/{relative.as_posix()}", child.read_bytes())


def _digest(files: list[BundleFile]) -> str:
    hasher = hashlib.sha256()
    for bundle_file in files:
        hasher.update(bundle_file.path.encode() + b"\0")
        hasher.update(hashlib.sha256(bundle_file.content).digest())
    return hasher.hexdigest()[:_DIGEST_CHARS]


def plan_bundle(dataset: LoadedDataset, profile: Profile) -> CodeBundle:
    """The bundle of ``dataset`` for ``profile``: files read and hashed, nothing uploaded.

    Raises:
        ConfigError: ``code.src``, ``code.requirements`` or a ``template`` names no local file
            (located in the dataset file).
        ProfileError: The profile has nowhere to put bundles.
    """
    files = _bundle_files(dataset)
    digest = _digest(files)
    return CodeBundle(tuple(files), digest, f"{bundle_root(profile)}/{dataset.config.id}/{digest}")


def bundle_digest(dataset: LoadedDataset) -> str:
    """The digest :func:`plan_bundle` names ``dataset``'s bundle by, on any profile.

    Raises:
        ConfigError: as :func:`plan_bundle`.
    """
    return _digest(_bundle_files(dataset))


def _bundle_files(dataset: LoadedDataset) -> list[BundleFile]:
    document: dict[str, Any] = dataset.resolved_document()
    files: list[BundleFile] = []
    code = document.get("code")
    if code is not None:
        src = _local_path(dataset, code["src"], ("code", "src"))
        code["src"] = f"{CODE_DIR}/{src.name}"
        files += _files_under(src, code["src"])
        if "requirements" in code:
            requirements = _local_path(dataset, code["requirements"], ("code", "requirements"))
            code["requirements"] = REQUIREMENTS_FILE
            files += _files_under(requirements, code["requirements"])
    for index, collection in enumerate(document["collections"]):
        if "template" in collection:
            template = _local_path(
                dataset, collection["template"], ("collections", index, "template")
            )
            collection["template"] = f"{TEMPLATES_DIR}/{collection['id']}/{template.name}"
            files += _files_under(template, collection["template"])
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    files.append(BundleFile(DATASET_FILE, text.encode()))
    files.sort(key=lambda bundle_file: bundle_file.path)
    return files


def upload_bundle(bundle: CodeBundle, profile: Profile) -> str:
    """Write ``bundle`` to its URI (``dataset.json`` last); skip it when already there.

    Returns:
        The URI of the uploaded ``dataset.json``.

    Raises:
        StorageError: Writing failed.
    """
    from etl.core.storage.opening import open_storage

    storage = open_storage(bundle.uri, profile=profile)
    if storage.exists(DATASET_FILE):
        return bundle.dataset_uri
    for bundle_file in bundle.files:
        if bundle_file.path != DATASET_FILE:
            storage.write_bytes(bundle_file.path, bundle_file.content)
    storage.write_bytes(DATASET_FILE, bundle.file(DATASET_FILE).content)
    return bundle.dataset_uri
