"""``etl-task ingest-collection`` and ``ingest-items``: collections and ready-made items into PgSTAC.

A collection's ``template`` is a folder holding ``template.json`` and ``description.md`` (PCTasks'
layout: ``{{ collection.description }}`` in the JSON is replaced by the Markdown), or a collection
JSON file. ``$<< env.* >>``, ``$<< profile.* >>`` and ``$<< secrets.* >>`` expressions in it are
rendered here, in the pod; ``args`` belong to ``dataset.yaml`` and are not available in templates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from etl.core.errors import ConfigError, TaskError
from etl.core.templating import TemplateContext, render_string
from etl.task.bundle_fetch import FetchedBundle
from etl.task.environment import TaskEnvironment
from etl.task.process_chunks import find_collection

__all__ = ["collection_document", "ingest_collection", "ingest_items", "iter_ndjson"]

_DESCRIPTION_TAG = re.compile(r"\{\{\s*collection\.description\s*\}\}")


def collection_document(
    bundle: FetchedBundle, collection_id: str, environment: TaskEnvironment
) -> dict[str, Any]:
    """The STAC collection built from the collection's template, rendered and checked."""
    collection = find_collection(bundle, collection_id)
    if not collection.template:
        raise ConfigError(f"collection {collection_id!r} has no template", field="template")
    template = collection.template.rstrip("/")
    storage = bundle.storage
    if template.endswith(".json"):
        text = storage.read_text(template)
    else:
        text = storage.read_text(f"{template}/template.json")
        description_path = f"{template}/description.md"
        if storage.exists(description_path):
            description = json.dumps(storage.read_text(description_path).strip())[1:-1]
            text = _DESCRIPTION_TAG.sub(lambda _: description, text)
    try:
        document: dict[str, Any] = json.loads(text)
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


def ingest_collection(
    bundle: FetchedBundle, collection_id: str, environment: TaskEnvironment
) -> dict[str, Any]:
    """Create or update the collection in PgSTAC; return what was written."""
    from etl.pgstac import PgstacWriter

    document = collection_document(bundle, collection_id, environment)
    with PgstacWriter(environment.pgstac_dsn()) as writer:
        writer.upsert_collection(document)
    return document


def ingest_items(
    sources: list[str], collection_id: str, method: str, environment: TaskEnvironment
) -> int:
    """Load ndjson item files (local paths or blob URIs) into PgSTAC; return the item count."""
    from etl.pgstac import PgstacWriter

    with PgstacWriter(environment.pgstac_dsn()) as writer:
        result = writer.load_items(
            (item for source in sources for item in iter_ndjson(source, environment)),
            collection_id,
            method=method,
        )
    return int(result.items)


def iter_ndjson(source: str, environment: TaskEnvironment) -> Iterator[dict[str, Any]]:
    """The items of one ndjson file, line by line."""
    if "://" not in source and not Path(source).exists():
        raise TaskError(f"{source}: no such file")
    text = environment.storage_for(source).read_text(source)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{source}:{number}: not a JSON item: {exc.msg}") from None


def _render(value: Any, context: TemplateContext, environment: TaskEnvironment) -> Any:
    if isinstance(value, dict):
        return {k: _render(v, context, environment) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, context, environment) for v in value]
    if isinstance(value, str) and "$<<" in value:
        rendered = render_string(value, context)
        return environment.resolve(rendered) if isinstance(rendered, str) else rendered
    return value
