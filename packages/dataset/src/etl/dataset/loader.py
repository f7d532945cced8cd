"""Loading a ``dataset.yaml``: parse with positions, template, validate, cross-check.

Every problem is a :class:`~etl.core.errors.ConfigError` (or its subclass ``TemplateError``)
rendered ``PATH:LINE:COL: field.path: message``; accepted-but-ignored keys become warnings on the
:class:`LoadedDataset`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from etl.core.errors import ConfigError, SourceLocation, UnknownCollectionError
from etl.core.located_yaml import FieldPath, LocatedDocument, format_field_path, load_located_yaml
from etl.core.profiles.model import Profile
from etl.core.storage.uris import FILE_SCHEME, local_path_of
from etl.core.templating.render import TemplateContext, check_document_markers, render_document
from etl.dataset.config_warnings import ConfigWarning
from etl.dataset.cross_checks import check_dataset
from etl.dataset.model import CollectionConfig, DatasetConfig
from etl.dataset.pctasks_compat import strip_ignored_keys, warn_pctasks_classes
from etl.dataset.validation_errors import located_validation_error

__all__ = ["DATASET_FILE_NAME", "LoadedDataset", "find_dataset_file", "load_dataset"]

DATASET_FILE_NAME = "dataset.yaml"


@dataclass(frozen=True)
class LoadedDataset:
    """A validated dataset: the model, where it came from, and what it warned about.

    Attributes:
        config: The validated model (args applied, secrets still ``$<< secrets.NAME >>``).
        path: The ``dataset.yaml`` file.
        document: The parsed file with positions, to locate errors found later.
        warnings: Accepted keys that have no effect, in file order.
    """

    config: DatasetConfig
    path: Path
    document: LocatedDocument
    warnings: tuple[ConfigWarning, ...] = field(default=())

    @property
    def folder(self) -> Path:
        """The folder holding the dataset file; relative paths in it are relative to this."""
        return self.path.parent

    @property
    def collection_ids(self) -> list[str]:
        """The ids of every collection, in file order."""
        return [collection.id for collection in self.config.collections]

    def select_collections(self, ids: Sequence[str] = ()) -> list[CollectionConfig]:
        """The collections named by ``ids`` (``-c``), in that order; every one when empty.

        Raises:
            UnknownCollectionError: An id names no collection of the dataset.
        """
        if not ids:
            return list(self.config.collections)
        by_id = {collection.id: collection for collection in self.config.collections}
        selected = []
        for collection_id in ids:
            if collection_id not in by_id:
                raise UnknownCollectionError(collection_id, self.collection_ids)
            if by_id[collection_id] not in selected:
                selected.append(by_id[collection_id])
        return selected

    def resolve_path(self, value: str) -> Path:
        """A ``template`` or ``code`` path (or ``file://`` URI) as a local path: relative ones are
        under :attr:`folder`."""
        if value.startswith(FILE_SCHEME):
            return local_path_of(value)
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.folder / path).resolve()

    def code_search_path(self) -> list[Path]:
        """Where the collection class's module is imported from: the folder holding ``code.src``."""
        if self.config.code is None:
            return []
        return [self.resolve_path(self.config.code.src).parent]

    def error(self, field_path: FieldPath, message: str) -> ConfigError:
        """A :class:`ConfigError` located at ``field_path`` of the dataset file."""
        return self.document.error(field_path, message)

    def resolved_document(self) -> dict[str, Any]:
        """The dataset as plain JSON data (args applied, secrets still references), for the pods."""
        return self.config.model_dump(mode="json", by_alias=True, exclude_none=True)


def find_dataset_file(path: Path | str) -> Path:
    """``path`` itself, or the ``dataset.yaml`` inside it when it is a folder.

    Raises:
        ConfigError: The path does not exist, or the folder holds no ``dataset.yaml``.
    """
    path = Path(path)
    if path.is_dir():
        candidate = path / DATASET_FILE_NAME
        if not candidate.is_file():
            raise ConfigError(
                f"no {DATASET_FILE_NAME} in this folder", location=SourceLocation(path)
            )
        return candidate
    if not path.exists():
        raise ConfigError("no such file or folder", location=SourceLocation(path))
    return path


def load_dataset(
    path: Path | str,
    *,
    args: Mapping[str, str] | None = None,
    profile: Profile | None = None,
    env: Mapping[str, str] | None = None,
) -> LoadedDataset:
    """Read, template, validate and cross-check a dataset.

    Args:
        path: A ``dataset.yaml``, or a folder holding one.
        args: Argument values (``-a NAME=VALUE``); every one must be declared by the dataset.
        profile: The profile ``$<< profile.* >>`` reads (default: the built-in ``local``).
        env: The environment ``$<< env.* >>`` reads (default: ``os.environ``).

    Raises:
        ConfigError: The file is missing, not YAML, or invalid; ``TemplateError`` for a malformed
            template marker (``$< x >>``, ``${{ x }}``) or a bad ``$<< ... >>`` expression.
            Always located ``PATH:LINE:COL: field.path: message``.
    """
    args = dict(args or {})
    file = find_dataset_file(path)
    doc = load_located_yaml(file)
    if not isinstance(doc.data, dict):
        raise doc.error((), "a dataset file must be a mapping (id, image, collections, ...)")
    check_document_markers(doc)
    data, warnings = strip_ignored_keys(doc.data, doc)
    stripped = LocatedDocument(path=doc.path, data=data, values=doc.values, keys=doc.keys)
    declared = _declared_args(stripped)
    _check_given_args(args, declared, stripped)
    rendered = _render(stripped, args, declared, profile, env)
    try:
        config = DatasetConfig.model_validate(rendered)
    except ValidationError as exc:
        raise located_validation_error(exc, doc, DatasetConfig) from None
    check_dataset(config, doc)
    warnings.extend(warn_pctasks_classes(data, doc))
    return LoadedDataset(config=config, path=file, document=doc, warnings=tuple(warnings))


def _declared_args(doc: LocatedDocument) -> list[str]:
    declared = doc.data.get("args")
    if declared is None:
        return []
    if not isinstance(declared, list) or not all(isinstance(a, str) for a in declared):
        raise doc.error(("args",), "expected a list of argument names")
    return declared


def _check_given_args(args: Mapping[str, str], declared: list[str], doc: LocatedDocument) -> None:
    for name in args:
        if name not in declared:
            where = ("args",) if "args" in doc.data else ()
            raise ConfigError(
                f"argument {name!r} is given (-a {name}=...) but not declared; the dataset "
                f"declares: {', '.join(declared) or 'none'}",
                location=doc.locate(where, key=True),
                field=format_field_path(where) or None,
            )


def _render(
    doc: LocatedDocument,
    args: Mapping[str, str],
    declared: list[str],
    profile: Profile | None,
    env: Mapping[str, str] | None,
) -> Any:
    context = TemplateContext(
        args=args,
        declared_args=declared,
        base_dir=doc.path.parent.resolve(),
        env=os.environ if env is None else env,
        profile=profile or Profile.builtin_local(),
    )
    return render_document(doc, context)
