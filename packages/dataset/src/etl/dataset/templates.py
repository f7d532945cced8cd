"""A collection's ``template``: the file holding its STAC JSON, and the check ``validate`` makes.

A template is a folder holding ``template.json`` (and ``description.md``, PCTasks' layout) or a
collection JSON file. The pods read it from the code bundle (``etl-task ingest-collection``);
``etl dataset validate`` parses each one found on this machine first, within the input limits
(:mod:`etl.core.input_limits`), so a template past them is a located exit-2 error before any run,
and so are an ``id`` that is not the collection's and a ``{{ ... }}`` placeholder the pod would not
replace (only ``{{ collection.description }}`` is; any other would be published literally).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any

from etl.core.errors import ConfigError
from etl.core.input_limits import parse_bounded_json, read_bounded_text, text_location

if TYPE_CHECKING:
    from pathlib import Path

    from etl.dataset.loader import LoadedDataset
    from etl.dataset.model import CollectionConfig

__all__ = [
    "DESCRIPTION_FILE",
    "DESCRIPTION_PLACEHOLDER",
    "PLACEHOLDER",
    "TEMPLATE_FILE",
    "check_templates",
    "template_json_path",
]

TEMPLATE_FILE = "template.json"
"""The STAC JSON inside a template folder."""

DESCRIPTION_FILE = "description.md"
"""The Markdown that replaces ``{{ collection.description }}`` in a template folder's JSON."""

DESCRIPTION_PLACEHOLDER = "collection.description"
"""The one placeholder name a template folder's JSON may hold (PCTasks' layout)."""

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
"""A Jinja-style ``{{ NAME }}`` placeholder in a template's JSON; group 1 is ``NAME``."""


def template_json_path(template: str) -> str:
    """The file holding the STAC JSON of ``template`` (a path or URI, folder or ``.json`` file)."""
    template = template.rstrip("/")
    return template if template.endswith(".json") else f"{template}/{TEMPLATE_FILE}"


def check_templates(loaded: LoadedDataset, collections: Sequence[CollectionConfig]) -> None:
    """Parse the template JSON of each of ``collections`` that is on this machine.

    A template file that does not exist is left to the bundle, which names it when it is built.

    Raises:
        ConfigError: A template is over the size limit, nested too deep, not JSON, has an
            ``id`` other than its collection's, or a placeholder the pod would not replace
            (located in the template file).
    """
    for collection in collections:
        if collection.template is None:
            continue
        path = loaded.resolve_path(template_json_path(collection.template))
        if not path.is_file():
            continue
        text = read_bounded_text(path)
        try:
            document = parse_bounded_json(text, path)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"not JSON: {exc.msg}", location=text_location(text, exc.pos, path)
            ) from None
        _check_id(document, collection.id, text, path)
        _check_placeholders(text, path, folder=path.name == TEMPLATE_FILE)


def _check_id(document: Any, collection_id: str, text: str, path: Path) -> None:
    """An ``id`` without ``$<< >>`` expressions must be the collection's id."""
    found = document.get("id") if isinstance(document, dict) else None
    if not isinstance(found, str) or "$<<" in found or found == collection_id:
        return
    match = re.search(r'"id"\s*:\s*' + re.escape(json.dumps(found)), text)
    raise ConfigError(
        f"id {found!r} is not the collection's id {collection_id!r}",
        location=text_location(text, match.start() if match else 0, path),
        field="id",
    )


def _check_placeholders(text: str, path: Path, *, folder: bool) -> None:
    """Every ``{{ NAME }}`` must be one the pod replaces, or it would be published literally."""
    known = [DESCRIPTION_PLACEHOLDER] if folder else []
    for match in PLACEHOLDER.finditer(text):
        name = match.group(1)
        if name in known:
            continue
        close = get_close_matches(name, known, n=1)
        hint = f"; did you mean {{{{ {close[0]} }}}}?" if close else ""
        replaced = (
            f"only {{{{ {DESCRIPTION_PLACEHOLDER} }}}} is replaced (by {DESCRIPTION_FILE})"
            if folder
            else f"a collection JSON file is not templated with {{{{ }}}} (only a folder with {TEMPLATE_FILE} and {DESCRIPTION_FILE} is)"
        )
        raise ConfigError(
            f"unknown placeholder {match.group(0)}: {replaced}; it would be published"
            f" literally{hint}",
            location=text_location(text, match.start(), path),
        )
