"""``etl cron``: the cron workflows (schedules) on the active profile's Argo Server.

``etl dataset process-items --schedule CRON --submit`` uploads the code bundle and creates the
``CronWorkflow`` (or updates the one of that name): :func:`schedule_work`. ``etl cron list|get|delete``
work on them as ``argo cron list|get|delete`` do. The local runner has no cron: these commands
and ``--schedule --submit`` refuse a profile that runs workflows locally, in one line (exit 2).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from etl.cli.options import OptionalOutputOption, command_group
from etl.cli.output import ManifestOutput, OutputFormat, print_outcome, print_result
from etl.cli.state import active_runner

if TYPE_CHECKING:
    from etl.argo.server.client import ArgoClient
    from etl.core.profiles import Profile
    from etl.core.runners import WorkflowRunner
    from etl.runner.work import PreparedWork

__all__ = ["app", "argo_client_for_cron", "schedule_work"]

app = command_group("List, show and delete the cron workflows (schedules) on the Argo Server.")

NameArgument = Annotated[str, typer.Argument(help="The cron workflow's name.", metavar="NAME")]

LOCAL_HAS_NO_CRON = (
    "the local runner has no cron: run `etl dataset process-items --submit` from your own "
    "scheduler, or use a profile with runner argo (a CronWorkflow on the Argo Server)"
)


def argo_client_for_cron(runner: WorkflowRunner, what: str) -> ArgoClient:
    """``runner`` as an Argo client; the local runner is refused in one line (exit 2).

    Raises:
        InputError: the profile runs workflows locally.
    """
    from etl.argo.server.client import ArgoClient
    from etl.core.errors import InputError

    if not isinstance(runner, ArgoClient):
        raise InputError(f"{what}: {LOCAL_HAS_NO_CRON}")
    return runner


def schedule_work(
    work: PreparedWork, client: ArgoClient, profile: Profile, *, output: ManifestOutput | None
) -> None:
    """Upload the bundle of the ``CronWorkflow`` in ``work`` and create or update it.

    Prints its name (or, with ``output``, ``{"name", "namespace", "runner", "action", "url"}``)
    on stdout; the upload and whether it was created or updated on stderr.

    Raises:
        RemoteError: the server is older than v3.6, or refused the request.
        StorageError: the upload failed (nothing was created).
    """
    from etl.argo import upload_bundle

    client.check_version()  # before uploading anything for a server that would be refused
    if work.bundle is not None:
        print(f"uploading the code bundle to {work.bundle.uri}", file=sys.stderr, flush=True)
        upload_bundle(work.bundle, profile)
    applied = client.apply_cron(work.manifest)
    action = "created" if applied.created else "updated"
    print(
        f"{action} CronWorkflow {applied.name} in namespace {applied.namespace}: {applied.url}",
        file=sys.stderr,
        flush=True,
    )
    if output is None:
        print(applied.name)
    else:
        print_result(applied.to_json(), OutputFormat(output.value))


def _client(ctx: typer.Context) -> ArgoClient:
    return argo_client_for_cron(active_runner(ctx), "etl cron")


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
