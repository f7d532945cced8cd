"""``etl cron``: the cron workflows (schedules) on the active profile's Argo Server.

``etl dataset process-items --schedule CRON --submit`` uploads the code bundle and creates the
``CronWorkflow`` (or updates the one of that name): :func:`etl.runner.work.schedule_work`.
``etl cron list|get|delete`` work on them as ``argo cron list|get|delete`` do. The local runner has
no cron: these commands and ``--schedule --submit`` refuse a profile that runs workflows locally,
in one line (exit 2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from etl.cli.options import OptionalOutputOption, command_group
from etl.cli.output import OutputFormat, print_outcome, print_result
from etl.cli.state import active_runner

if TYPE_CHECKING:
    from etl.runner.argo_server.client import ArgoClient

__all__ = ["app"]

app = command_group("List, show and delete the cron workflows (schedules) on the Argo Server.")

NameArgument = Annotated[str, typer.Argument(help="The cron workflow's name.", metavar="NAME")]


def _client(ctx: typer.Context) -> ArgoClient:
    from etl.runner.work import cron_client

    return cron_client(active_runner(ctx), "etl cron")


@app.command("list")
def list_(ctx: typer.Context, output: OptionalOutputOption = None) -> None:
    """List the namespace's cron workflows, by name."""
    crons = _client(ctx).list_crons()
    if output is None or output is OutputFormat.TABLE:
        print_result([cron.row() for cron in crons], OutputFormat.TABLE)
    else:
        print_result([cron.to_json() for cron in crons], output)


@app.command()
def get(ctx: typer.Context, name: NameArgument, output: OptionalOutputOption = None) -> None:
    """Show a cron workflow: schedules, time zone, suspended, last run, active workflows."""
    client = _client(ctx)
    cron = client.get_cron(name)
    if output is None or output is OutputFormat.TABLE:
        data = cron.to_json()
        data["schedules"] = ", ".join(cron.schedules)
        data["active"] = ", ".join(cron.active) or None
        data["timezone"] = cron.timezone or None
        data["url"] = client.cron_workflow_url(cron.name, cron.namespace)
        print_result(data, OutputFormat.TABLE)
    else:
        print_result(cron.to_json(), output)


@app.command()
def delete(ctx: typer.Context, name: NameArgument, output: OptionalOutputOption = None) -> None:
    """Delete a cron workflow; the workflows it already started stay."""
    _client(ctx).delete_cron(name)
    print_outcome(f"CronWorkflow {name!r} deleted", {"name": name, "deleted": True}, output)
