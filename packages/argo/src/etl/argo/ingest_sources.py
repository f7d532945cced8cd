"""The files ``etl ingest`` loads: what the pod reads for each SOURCE, and what to upload first.

- A blob URI (``blob://ACCOUNT/CONTAINER/PATH``) is passed to the pod as it is.
- A local path or ``file://`` URI, with a profile whose runner is ``local``: read where it is (as
  an absolute path; the local runner runs each step in a folder of its own).
- A local path or ``file://`` URI, with an Argo profile: pods cannot read this machine's files, so
  at submit the file is uploaded, content-addressed, to
  ``{workflow.code_storage}/_ingest/{digest}/{file name}`` (skipped when already there), and the
  pod reads that URI. ``digest`` is the first 20 hex digits of the SHA-256 of the file's bytes;
  rendering computes the same URI without uploading. Without ``workflow.code_storage`` this is an
  error that says to pass blob URIs or to set it.

A pod's command line names at most :data:`INLINE_SOURCES` sources. Past that the URIs go in a list
file, one a line, content-addressed at ``{workflow.code_storage}/_ingest/lists/{digest}.txt``
(:func:`plan_source_list`), uploaded at submit like the files, and the pod reads it
(``etl-task ingest-items --sources-file URI``): 12,000 sources made a manifest of almost 1 MB, over
what Kubernetes stores for one object.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from etl.argo.bundle import bundle_root
from etl.core.errors import InputError
from etl.core.profiles.model import Profile, RunnerKind
from etl.core.storage.uris import FILE_SCHEME, local_path_of, unsupported_scheme

__all__ = [
    "INLINE_SOURCES",
    "UPLOAD_FOLDER",
    "IngestSource",
    "SourceList",
    "plan_source_list",
    "plan_sources",
    "upload_source_list",
    "upload_sources",
]

UPLOAD_FOLDER = "_ingest"
"""The folder of ``workflow.code_storage`` that local ingest files are uploaded to."""
INLINE_SOURCES = 20
"""At most this many sources are named in a pod's command line; more go in a list file."""
_DIGEST_CHARS = 20


@dataclass(frozen=True)
class IngestSource:
    """One SOURCE argument of ``etl ingest``.

    Attributes:
        given: The argument as the user wrote it.
        uri: What the pod reads: a URI, or an absolute local path for the local runner.
        local_path: The local file to upload to ``uri`` before submitting, or ``None``.
    """

    given: str
    uri: str
    local_path: Path | None = None


@dataclass(frozen=True)
class SourceList:
    """The URIs a pod loads, in a file of the code storage, one URI a line.

    Attributes:
        uri: Where the pod reads the list.
        text: The list's content.
    """

    uri: str
    text: str


def _local_file(given: str) -> Path | None:
    """The local file ``given`` names, or ``None`` when it is a remote URI.

    Raises:
        InputError: It has a scheme etl does not read, or names a local file that does not exist,
            or a folder.
    """
    problem = unsupported_scheme(given)
    if problem:
        raise InputError(problem)
    if "://" in given and not given.startswith(FILE_SCHEME):
        return None
    path = local_path_of(given)
    if not path.exists():
        raise InputError(f"{given}: no such file")
    if not path.is_file():
        raise InputError(f"{given}: is a folder; give the files in it")
    return path


def _digest(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:_DIGEST_CHARS]


def _plan(given: str, profile: Profile) -> IngestSource:
    path = _local_file(given)
    if path is None:
        return IngestSource(given, given)
    if profile.runner is RunnerKind.LOCAL:
        return IngestSource(given, str(path))
    if not profile.workflow.code_storage:
        raise InputError(
            f"{given}: pods of profile {profile.name!r} cannot read files of this machine; pass a "
            "blob:// URI, or set workflow.code_storage so that etl uploads local files there"
        )
    uri = f"{bundle_root(profile)}/{UPLOAD_FOLDER}/{_digest(path)}/{path.name}"
    return IngestSource(given, uri, path)


def plan_sources(sources: Sequence[str], profile: Profile) -> tuple[IngestSource, ...]:
    """Where the pods of ``profile`` read each source; local files are read and hashed, not uploaded.

    Raises:
        InputError: A source has a scheme etl does not read (``ftp://``), a local source is missing
            or a folder, or must be uploaded and the profile has no ``workflow.code_storage``.
        ProfileError: ``workflow.code_storage`` is not a ``blob://`` or ``file://`` URI.
    """
    return tuple(_plan(given, profile) for given in sources)


def upload_sources(sources: Iterable[IngestSource], profile: Profile) -> list[IngestSource]:
    """Upload the local files of ``sources`` to their URIs, skipping those already there.

    Returns:
        The sources that were uploaded.

    Raises:
        StorageError: Writing failed.
    """
    from etl.core.storage.opening import open_storage_for

    uploaded: list[IngestSource] = []
    for source in sources:
        if source.local_path is None:
            continue
        storage = open_storage_for(source.uri, profile=profile)
        if not storage.exists(source.uri):
            storage.write_bytes(source.uri, source.local_path.read_bytes())
            uploaded.append(source)
    return uploaded


def plan_source_list(sources: Sequence[IngestSource], profile: Profile) -> SourceList | None:
    """The list file that names ``sources`` for the pod, or ``None`` when they fit its command line.

    Raises:
        ProfileError: An Argo profile has no ``workflow.code_storage`` to hold the list.
    """
    if len(sources) <= INLINE_SOURCES:
        return None
    text = "".join(f"{source.uri}\n" for source in sources)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:_DIGEST_CHARS]
    return SourceList(f"{bundle_root(profile)}/{UPLOAD_FOLDER}/lists/{digest}.txt", text)


def upload_source_list(source_list: SourceList, profile: Profile) -> bool:
    """Write the list file, unless it is there already (its name is its content's digest).

    Returns:
        Whether it was written.

    Raises:
        StorageError: Writing failed.
    """
    from etl.core.storage.opening import open_storage_for

    storage = open_storage_for(source_list.uri, profile=profile)
    if storage.exists(source_list.uri):
        return False
    storage.write_text(source_list.uri, source_list.text)
    return True
