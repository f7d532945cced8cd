"""Load a dataset the way every ``etl dataset`` command does: profile, ``-a`` values, ``-c`` ids."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from etl.cli.options import parse_key_values
from etl.cli.state import active_profile

if TYPE_CHECKING:
    from etl.dataset.loader import LoadedDataset
    from etl.dataset.model import CollectionConfig

__all__ = ["load_selection"]


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
    from etl.dataset.loader import load_dataset

    loaded = load_dataset(dataset, args=parse_key_values(args), profile=active_profile(ctx))
    selected = loaded.select_collections(collections or [])
    for warning in loaded.warnings:
        print(warning, file=sys.stderr)
    return loaded, selected
