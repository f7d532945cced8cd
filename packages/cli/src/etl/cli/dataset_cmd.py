"""``etl dataset``: commands on a ``dataset.yaml`` (see docs/cli.md).

The checks (``validate``, ``schema``) are declared here; the work commands (``render``,
``process-items``, ...) in :mod:`etl.cli.dataset_work_cmd`, whose group is merged into this one.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from etl.cli import dataset_work_cmd
from etl.cli.options import ArgOption, CollectionOption, DatasetOption, command_group
from etl.cli.selection import load_selection

__all__ = ["app"]

app = command_group("Validate, render and run the work of a dataset.yaml.")


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


app.add_typer(dataset_work_cmd.app)
