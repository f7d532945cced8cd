"""``etl dataset``: commands on a ``dataset.yaml`` (see docs/cli.md).

The checks (``validate``, ``schema``) are declared here; the work commands (``render``,
``process-items``, ...) in :mod:`etl.cli.dataset_work_cmd`, ``secrets`` in
:mod:`etl.cli.dataset_secrets_cmd` and ``send-events`` in :mod:`etl.cli.dataset_events_cmd`, ``stream`` in
:mod:`etl.cli.dataset_stream_cmd`, ``send-notifications`` in :mod:`etl.cli.dataset_notify_cmd`,
whose commands join this group, each module imported only when one of its commands runs
(:class:`etl.cli.root_group.CommandModules`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, ClassVar

import typer

from etl.cli.options import (
    ArgOption,
    CollectionOption,
    DatasetOption,
    OptionalOutputOption,
    command_group,
)
from etl.cli.output import print_outcome
from etl.cli.root_group import CommandModules
from etl.cli.selection import load_selection
from etl.core.env_names import IMPORT_TIMEOUT_ENV
from etl.dataset.class_check import DEFAULT_IMPORT_TIMEOUT

__all__ = ["app"]


class _DatasetGroup(CommandModules):
    """``etl dataset``: each command declared in another module, named with it (a command left
    out here is missing from ``etl dataset``: ``tests/cli/test_plan_cost.py`` checks)."""

    modules: ClassVar[dict[str, str]] = {
        **dict.fromkeys(
            ("render", "process-items", "create-chunks", "ingest-collection"),
            "etl.cli.dataset_work_cmd",
        ),
        "secrets": "etl.cli.dataset_secrets_cmd",
        **dict.fromkeys(("plan", "status", "forget-failures"), "etl.cli.dataset_plan_cmd"),
        **dict.fromkeys(("send-events", "replay-dead-letters"), "etl.cli.dataset_events_cmd"),
        "stream": "etl.cli.dataset_stream_cmd",
        "send-notifications": "etl.cli.dataset_notify_cmd",
    }


app = command_group("Validate, render and run the work of a dataset.yaml.", cls=_DatasetGroup)

ImportTimeoutOption = Annotated[
    float,
    typer.Option(
        "--import-timeout",
        envvar=IMPORT_TIMEOUT_ENV,
        show_envvar=True,
        min=0.1,
        metavar="SECONDS",
        help="How long importing the collection classes may take before it is stopped.",
    ),
]


@app.command()
def validate(
    ctx: typer.Context,
    *,
    dataset: DatasetOption = Path("."),
    collection: CollectionOption = None,
    arg: ArgOption = None,
    import_timeout: ImportTimeoutOption = DEFAULT_IMPORT_TIMEOUT,
    output: OptionalOutputOption = None,
) -> None:
    """Parse, template and check the dataset and its collection templates, and import its
    collection classes, without touching any remote service."""
    from etl.core.counts import counted
    from etl.dataset.class_check import check_collection_classes
    from etl.dataset.templates import check_templates

    loaded, selected = load_selection(ctx, dataset, collection, arg)
    check_templates(loaded, selected)
    warnings = check_collection_classes(loaded, selected, timeout=import_timeout)
    for warning in warnings:
        print(warning, file=sys.stderr)
    count = counted(len(selected), "collection")
    data = {
        "dataset": loaded.config.id,
        "collections": [c.id for c in selected],
        "warnings": [str(w) for w in (*loaded.warnings, *warnings)],
    }
    print_outcome(f"ok: {loaded.config.id} ({count})", data, output)


@app.command()
def schema() -> None:
    """Print the JSON Schema of dataset.yaml (for editors and CI)."""
    from etl.dataset.model import dataset_json_schema

    print(json.dumps(dataset_json_schema(), indent=2))
