"""The STAC JSON schemas a pod validates items with, all read from local files, never fetched.

The cache is pystac's own copy of the core schemas of the STAC version it writes (item, its parts,
GeoJSON), then the files under :data:`CACHE_DIR` (package data of ``etl-task``, so in the task
image) and under each folder of ``$ETL_STAC_SCHEMAS`` (``os.pathsep``-separated, for a derived
image's own schemas). A schema ``https://HOST/PATH`` is the file ``HOST/PATH`` of a folder, known
by its ``$id``;
``scripts/stac-schemas add URI`` puts one there. Each schema URI gets one compiled validator
(``jsonschema-rs``, its ``$ref``s resolved from the cache while it is built), built on first use
and shared by every item and thread of the pod; pure-Python ``jsonschema`` on a ``referencing``
registry of the same cache explains an item the compiled one refuses (its messages, and its
choice of the most telling error, are the ones users see).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl.core.pod_contract import STAC_SCHEMAS_ENV

if TYPE_CHECKING:
    import jsonschema_rs
    from jsonschema.protocols import Validator
    from referencing import Registry

__all__ = [
    "CACHE_DIR",
    "SchemaNotCachedError",
    "SchemaUnusableError",
    "StacSchemas",
    "cache_path",
    "core_item_schema",
    "default_folders",
    "folder_schemas",
    "not_cached_message",
]

CACHE_DIR = Path(__file__).with_name("stac_schemas")
"""The schemas shipped with ``etl-task`` (``HOST/PATH`` per schema URI)."""


class SchemaNotCachedError(LookupError):
    """A schema an item names (or a schema refers to) is not in the local cache."""

    def __init__(self, uri: str, needed_by: str | None = None) -> None:
        needing = f" (needed by {needed_by})" if needed_by is not None else ""
        super().__init__(not_cached_message(uri) + needing)
        self.uri = uri


class SchemaUnusableError(ValueError):
    """A cached schema is not a JSON schema the validator can compile (e.g. a regular expression
    that is not ECMA 262, as JSON Schema requires)."""

    def __init__(self, uri: str, reason: str) -> None:
        first = reason.splitlines()[0] if reason else "invalid"
        super().__init__(f"schema {uri} cannot be used: {first}")


def not_cached_message(uri: str) -> str:
    """The one line saying ``uri`` is not cached and how to add it."""
    return (
        f"schema {uri} is not in etl's schema cache (schemas are never fetched at run time); "
        f"add it with `scripts/stac-schemas add {uri}` and rebuild the image, or put it in a "
        f"folder of ${STAC_SCHEMAS_ENV}"
    )


def core_item_schema(stac_version: str) -> str:
    """The URI of the core item schema of ``stac_version`` (``1.1.0``)."""
    return f"https://schemas.stacspec.org/v{stac_version}/item-spec/json-schema/item.json"


def cache_path(folder: Path, uri: str) -> Path:
    """Where schema ``uri`` is kept under ``folder``: ``HOST/PATH``.

    Raises:
        ValueError: Not an http(s) URI of a file, or a path leaving the folder.
    """
    scheme, _, rest = uri.partition("://")
    parts = rest.split("#", 1)[0].split("/")
    if scheme not in ("http", "https") or len(parts) < 2 or not parts[-1]:
        raise ValueError(f"{uri!r}: give the http(s) URI of a schema file")
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"{uri!r}: a schema URI's path may not have empty, . or .. parts")
    return folder.joinpath(*parts)


def folder_schemas(folder: Path) -> Iterable[tuple[str, Any]]:
    """Each schema file under ``folder``, by its ``$id`` (else ``https://HOST/PATH``)."""
    for path in sorted(folder.rglob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        given = schema.get("$id") if isinstance(schema, dict) else None
        yield (
            (given if isinstance(given, str) else f"https://{path.relative_to(folder).as_posix()}"),
            schema,
        )


class StacSchemas:
    """Every cached schema by URI; a compiled validator and an explaining one per schema URI."""

    def __init__(self, folders: Iterable[Path] | None = None) -> None:
        self.folders = list(folders) if folders is not None else default_folders()
        self._schemas: dict[str, Any] | None = None
        self._validators: dict[str, jsonschema_rs.Validator] = {}
        self._registry: Registry[Any] | None = None
        self._explainers: dict[str, Validator] = {}
        self._lock = threading.Lock()

    def validator(self, uri: str) -> jsonschema_rs.Validator:
        """The compiled validator of schema ``uri``, built once (formats are not checked).

        Raises:
            SchemaNotCachedError: ``uri``, or a schema it refers to, is not cached.
            SchemaUnusableError: The schema does not compile.
        """
        found = self._validators.get(uri)
        if found is not None:
            return found
        with self._lock:
            if uri not in self._validators:
                self._validators[uri] = self._compile(uri)
            return self._validators[uri]

    def explainer(self, uri: str) -> Validator:
        """The pure-Python ``jsonschema`` validator of schema ``uri`` (slow; it says why an item
        is invalid). Call :meth:`validator` first: it finds the schemas that are not cached."""
        with self._lock:
            if uri not in self._explainers:
                from jsonschema.validators import validator_for

                registry = self._registry or self._load_registry()
                schema = registry.contents(uri)
                cls: Any = validator_for(schema)
                self._explainers[uri] = cls(schema, registry=registry)
            return self._explainers[uri]

    def _compile(self, uri: str) -> jsonschema_rs.Validator:
        import jsonschema_rs

        schemas = self._schemas if self._schemas is not None else self._load()
        if uri not in schemas:
            raise SchemaNotCachedError(uri)
        missing: list[str] = []

        def retrieve(ref: str) -> Any:
            if ref in schemas:
                return schemas[ref]
            missing.append(ref)
            raise SchemaNotCachedError(ref)

        try:
            return jsonschema_rs.validator_for(
                schemas[uri], retriever=retrieve, validate_formats=False, base_uri=uri
            )
        except ValueError as exc:
            if missing:
                raise SchemaNotCachedError(missing[0], needed_by=uri) from None
            raise SchemaUnusableError(uri, str(exc)) from None

    def _load(self) -> dict[str, Any]:
        from pystac.validation.local_validator import get_local_schema_cache

        schemas: dict[str, Any] = dict(get_local_schema_cache())
        for folder in self.folders:
            if folder.is_dir():
                schemas.update(folder_schemas(folder))
        self._schemas = schemas
        return schemas

    def _load_registry(self) -> Registry[Any]:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT7

        schemas = self._schemas if self._schemas is not None else self._load()
        self._registry = Registry().with_resources(
            (uri, Resource.from_contents(schema, default_specification=DRAFT7))
            for uri, schema in schemas.items()
        )
        return self._registry


def default_folders() -> list[Path]:
    """:data:`CACHE_DIR`, then the folders of ``$ETL_STAC_SCHEMAS``."""
    extra = [Path(p) for p in os.environ.get(STAC_SCHEMAS_ENV, "").split(os.pathsep) if p]
    return [CACHE_DIR, *extra]
