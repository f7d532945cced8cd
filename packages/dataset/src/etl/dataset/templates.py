"""A collection's ``template``: the file holding its STAC JSON, and the check ``validate`` makes.

A template is a folder holding ``template.json`` (and ``description.md``, PCTasks' layout) or a
collection JSON file. The pods read it from the code bundle (``etl-task ingest-collection``);
``etl dataset validate`` parses each one found on this machine first, within the input limits
(:mod:`etl.core.input_limits`), so a template past them is a located exit-2 error before any run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from etl.core.errors import ConfigError
from etl.core.input_limits import parse_bounded_json, read_bounded_text, text_location

if TYPE_CHECKING:
    from etl.dataset.loader import LoadedDataset
    from etl.dataset.model import CollectionConfig

__all__ = ["DESCRIPTION_FILE", "TEMPLATE_FILE", "check_templates", "template_json_path"]

TEMPLATE_FILE = "template.json"
"""The STAC JSON inside a template folder."""

DESCRIPTION_FILE = "description.md"
"""The Markdown that replaces ``{{ collection.description }}`` in a template folder's JSON."""


def template_json_path(template: str) -> str:
    """The file holding the STAC JSON of ``template`` (a path or URI, folder or ``.json`` file)."""
    template = template.rstrip("/")
    return template if template.endswith(".json") else f"{template}/{TEMPLATE_FILE}"


def check_templates(loaded: LoadedDataset, collections: Sequence[CollectionConfig]) -> None:
    """Parse the template JSON of each of ``collections`` that is on this machine.

    A template file that does not exist is left to the bundle, which names it when it is built.

    Raises:
        ConfigError: A template is over the size limit, nested too deep, or not JSON (located in
            the template file).
    """
    for collection in collections:
        if collection.template is None:
            continue
        path = loaded.resolve_path(template_json_path(collection.template))
        if not path.is_file():
            continue
        text = read_bounded_text(path)
        try:
            parse_bounded_json(text, path)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"not JSON: {exc.msg}", location=text_location(text, exc.pos, path)
            ) from None
