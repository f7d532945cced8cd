"""``etl dataset``: commands on a ``dataset.yaml`` (see docs/cli.md).

Other modules add commands to this group with ``@dataset_cmd.app.command()`` and reuse
:func:`load_selection` and the options of :mod:`etl.cli.options`; list such a module in
the ``extensions`` of the ``dataset`` group in ``etl.cli.main`` so that it is imported.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from etl.cli.options import (
    ArgOption,
    CollectionOption,
    DatasetOption,
    command_group,
    parse_key_values,
)
from etl.cli.state import active_profile

if TYPE_CHECKING:
    from etl.dataset import CollectionConfig, LoadedDataset

__all__ = ["app", "load_selection"]

app = command_group("Validate, render and run the work of a dataset.yaml.")


def load_selection(
    ctx: typer.Context,
    dataset: Path,
    collections: list[str] | None,
    args: list[str] | None,
) -> tuple[LoadedDataset, list[CollectionConfig]]:
    """Load the dataset with the active profile and ``-a`` values; pick the ``-c`` collections.

    Warnings about the file are printed on stderr (only when the selection is valid).

    Raises:
        ConfigError: The dataset is invalid (located).
        UnknownCollectionError: A ``-c`` id names no collection.
    """
    from etl.dataset import load_dataset

    loaded = load_dataset(dataset, args=parse_key_values(args), profile=active_profile(ctx))
    selected = loaded.select_collections(collections or [])
    for warning in loaded.warnings:
        print(warning, file=sys.stderr)
    return loaded, selected


@app.command()
def validate(
    ctx: typer.Context,
    dataset: DatasetOption = Path("."),
    collection: CollectionOption = None,
    arg: ArgOption = None,
) -> None:
    """Parse, template and check the dataset without touching any remote service."""
    loaded, selected = load_selection(ctx, dataset, collection, arg)
    print(f"ok: {loaded.config.id} ({len(selected)} collections)")


@app.command()
def schema() -> None:
    """Print the JSON Schema of dataset.yaml (for editors and CI)."""
    from etl.dataset import dataset_json_schema

    print(json.dumps(dataset_json_schema(), indent=2))
