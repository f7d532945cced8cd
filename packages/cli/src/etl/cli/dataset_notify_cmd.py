"""``etl dataset send-notifications``: send the item events that wait undelivered in the outbox
(a target was down, a pod was killed after its commit) to the dataset's targets. The command joins
the ``etl dataset`` group (:mod:`etl.cli.dataset_cmd`); docs/notifications.md has the details.
"""

from __future__ import annotations

from pathlib import Path

import typer

from etl.cli.options import (
    ArgOption,
    CollectionOption,
    DatasetOption,
    OptionalOutputOption,
    command_group,
)
from etl.cli.output import print_outcome
from etl.cli.selection import load_selection
from etl.cli.state import active_profile
from etl.core.counts import counted
from etl.core.errors import RunError

__all__ = ["app"]

app = command_group("Item events of a dataset's collections.")


@app.command("send-notifications")
def send_notifications(
    ctx: typer.Context,
    *,
    dataset: DatasetOption = Path("."),
    collection: CollectionOption = None,
    arg: ArgOption = None,
    output: OptionalOutputOption = None,
) -> None:
    """Send the item events waiting undelivered for the collections' notification targets
    (etl dataset status shows them); exit 1 if a target still refuses them."""
    from etl.runner.notifications import send_notifications as send

    loaded, selected = load_selection(ctx, dataset, collection, arg)
    results = send(loaded, selected, active_profile(ctx))
    if not results:
        message = f"dataset {loaded.config.id!r}: no notification targets (notifications:)"
    else:
        message = "\n".join(
            f"{result.target}: {counted(result.delivered, 'event')} sent"
            + (f"; the rest stay undelivered: {result.error}" if result.error else "")
            for result in results
        )
    data = [{"target": r.target, "delivered": r.delivered, "error": r.error} for r in results]
    print_outcome(message, {"targets": data}, output)
    failed = [result.target for result in results if result.error is not None]
    if failed:
        raise RunError(f"events stay undelivered for {', '.join(failed)}")
