"""``etl-task ingest-collection`` and ``ingest-items``: collections and ready-made items into PgSTAC.

A collection comes from a dataset's ``template`` or from a standalone collection JSON file
(``etl ingest collection``); both are upserted by :func:`upsert_collection`. A ``template`` is a
folder holding ``template.json`` and ``description.md`` (PCTasks' layout: ``{{ collection.description
}}`` in the JSON is replaced by the Markdown), or a collection JSON file. ``$<< env.* >>``,
``$<< profile.* >>`` and ``$<< secrets.* >>`` expressions in it are rendered here, in the pod;
``args`` belong to ``dataset.yaml`` and are not available in templates. A standalone collection
file is loaded as it is, without templating.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from etl.core.errors import ConfigError, SourceLocation, TaskError
from etl.core.input_limits import parse_bounded_json
from etl.core.progress import progress_line
from etl.core.templating.render import TemplateContext, render_string
from etl.dataset.model import ExtentSource
from etl.dataset.templates import (
    DESCRIPTION_FILE,
    DESCRIPTION_PLACEHOLDER,
    PLACEHOLDER,
    template_json_path,
)
from etl.task.bundle_fetch import FetchedBundle
from etl.task.environment import TaskEnvironment

__all__ = [
    "collection_document",
    "collection_file_document",
    "ingest_collection",
    "ingest_collection_file",
    "ingest_items",
    "iter_ndjson",
    "read_source_text",
    "upsert_collection",
]


def collection_document(
    bundle: FetchedBundle, collection_id: str, environment: TaskEnvironment
) -> dict[str, Any]:
    """The STAC collection built from the collection's template, rendered and checked."""
    collection = bundle.collection(collection_id)
    if not collection.template:
        raise ConfigError(f"collection {collection_id!r} has no template", field="template")
    template = collection.template.rstrip("/")
    storage = bundle.storage
    json_path = template_json_path(template)
    text = storage.read_text(json_path)
    if json_path != template:
        description_path = f"{template}/{DESCRIPTION_FILE}"
        if storage.exists(description_path):
            description = json.dumps(storage.read_text(description_path).strip())[1:-1]
            text = PLACEHOLDER.sub(
                lambda m: description if m.group(1) == DESCRIPTION_PLACEHOLDER else m.group(0),
                text,
            )
    try:
        document: dict[str, Any] = parse_bounded_json(text, storage.uri_of(json_path))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"template of collection {collection_id!r} is not JSON: {exc}") from None
    context = TemplateContext(
        args={},
        declared_args=(),
        base_dir=bundle.local_root,
        env=environment.env,
        profile=environment.profile,
    )
    document = _render(document, context, environment)
    if document.get("id") != collection_id:
        raise ConfigError(
            f"template of collection {collection_id!r} has id {document.get('id')!r}",
            field="template",
        )
    return document


def collection_file_document(
    source: str, environment: TaskEnvironment, *, expected_id: str | None = None
) -> dict[str, Any]:
    """The STAC collection in the JSON file ``source`` (a local path or a URI), checked.

    Raises:
        ConfigError: The file is not JSON (located at its line and column), past the input limits,
            not a collection, or its id is not ``expected_id``.
        TaskError: A local ``source`` does not exist.
    """
    try:
        document = parse_bounded_json(read_source_text(source, environment), source)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"not JSON: {exc.msg}", location=SourceLocation(source, exc.lineno, exc.colno)
        ) from None
    location = SourceLocation(source)
    if not isinstance(document, dict) or document.get("type") != "Collection":
        raise ConfigError('not a STAC collection (no "type": "Collection")', location=location)
    if not isinstance(document.get("id"), str) or not document["id"]:
        raise ConfigError("the collection has no string id", location=location, field="id")
    if expected_id is not None and document["id"] != expected_id:
        raise ConfigError(
            f"collection {document['id']!r}, expected {expected_id!r}",
            location=location,
            field="id",
        )
    return document


def upsert_collection(
    document: dict[str, Any], environment: TaskEnvironment, *, keep_stored_extent: bool = False
) -> dict[str, Any]:
    """Create or update the collection ``document`` in PgSTAC; return what was written.

    With ``keep_stored_extent`` an existing collection keeps the extent PgSTAC holds (its items'
    since the last run) instead of ``document``'s.
    """
    from etl.pgstac.writer import PgstacWriter

    with PgstacWriter(environment.pgstac_dsn()) as writer:
        stored = writer.get_collection(document["id"]) if keep_stored_extent else None
        if stored is not None and stored.get("extent"):
            document = {**document, "extent": stored["extent"]}
        writer.upsert_collection(document)
    return document


def ingest_collection(
    bundle: FetchedBundle, collection_id: str, environment: TaskEnvironment
) -> dict[str, Any]:
    """Create or update the collection from its dataset template; return what was written.

    A collection whose extent follows its items (``extent: items``) keeps its extent in PgSTAC:
    the template's is only that of a new collection, so STAC clients never see it during a run.
    """
    follows_items = bundle.collection(collection_id).extent is ExtentSource.ITEMS
    document = collection_document(bundle, collection_id, environment)
    return upsert_collection(document, environment, keep_stored_extent=follows_items)


def ingest_collection_file(
    source: str, environment: TaskEnvironment, *, expected_id: str | None = None
) -> dict[str, Any]:
    """Create or update the collection of a collection JSON file; return what was written."""
    document = collection_file_document(source, environment, expected_id=expected_id)
    return upsert_collection(document, environment)


def ingest_items(
    sources: list[str], collection_id: str, method: str, environment: TaskEnvironment
) -> int:
    """Load ndjson item files (local paths or URIs) into PgSTAC, one load per file.

    Each committed batch is reported as an ``etl-progress`` line (its item count) on stdout.

    Returns:
        How many items were loaded.

    Raises:
        ItemError: A line is not a JSON object, or an item is malformed or belongs to another
            collection (named ``SOURCE:LINE`` or ``SOURCE item #N``). The files before it stay
            loaded, as do the committed batches of that file.
        ItemIdConflictError: ``insert`` met an id that exists.
    """
    from etl.pgstac.writer import PgstacWriter

    count = 0
    with PgstacWriter(environment.pgstac_dsn()) as writer:
        for source in sources:
            result = writer.load_items(
                iter_ndjson(source, environment),
                collection_id,
                method=method,
                on_batch=lambda batch: print(progress_line(items=batch.items), flush=True),
                source=source,
            )
            count += result.items
    return count


def iter_ndjson(source: str, environment: TaskEnvironment) -> Iterator[dict[str, Any]]:
    """The items of one ndjson file, line by line.

    Raises:
        ItemError: A line is not a JSON object (named ``SOURCE:LINE``).
        TaskError: A local ``source`` does not exist.
    """
    from etl.pgstac.items import parse_ndjson

    yield from parse_ndjson(read_source_text(source, environment).splitlines(), source=source)


def read_source_text(source: str, environment: TaskEnvironment) -> str:
    """The text of ``source``, a local path or a URI.

    Raises:
        TaskError: A local ``source`` does not exist.
        StorageError: Reading failed.
    """
    if "://" not in source and not Path(source).exists():
        raise TaskError(f"{source}: no such file")
    return environment.storage_for(source).read_text(source)


def _render(value: Any, context: TemplateContext, environment: TaskEnvironment) -> Any:
    if isinstance(value, dict):
        return {k: _render(v, context, environment) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, context, environment) for v in value]
    if isinstance(value, str) and "$<<" in value:
        rendered = render_string(value, context)
        return environment.resolve(rendered) if isinstance(rendered, str) else rendered
    return value
