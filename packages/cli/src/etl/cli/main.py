"""``etl``: the command line. Builds the app from one typer group per module and runs it;
``etl completion SHELL`` (and typer's ``--install-completion``) give shell completion.

Start-up stays fast: command groups are imported only when used (:mod:`etl.cli.root_group`), and
command modules import heavy libraries only inside the commands. Errors become exit codes in one
place, :mod:`etl.cli.error_mapping`.
"""

from __future__ import annotations

from typing import Annotated

import typer
from typer._completion_shared import Shells, get_completion_script

from etl.cli.completion import complete_profiles
from etl.cli.help_format import EtlTyper
from etl.cli.options import choices_metavar
from etl.cli.root_group import EtlGroup, LazyCommand, LazyGroup
from etl.cli.state import CliState
from etl.core.env_names import PROFILE_ENV
from etl.core.log_setup import configure_logging

__all__ = ["app", "main"]

# ``etl NAME ...``: one line per command group.
EtlGroup.lazy_groups = {
    "profile": LazyGroup("etl.cli.profile_cmd", "Create, select and inspect profiles."),
    "dataset": LazyGroup("etl.cli.dataset_cmd", "Validate, render and run a dataset.yaml."),
    "workflow": LazyGroup("etl.cli.workflow_cmd", "Submit, follow, stop and retry workflows."),
    "cron": LazyGroup("etl.cli.cron_cmd", "List, show and delete cron workflows (schedules)."),
    "ingest": LazyGroup(
        "etl.cli.ingest_cmd", "Load a collection JSON or ndjson items into PgSTAC."
    ),
    "serve": LazyCommand(
        "etl.cli.serve_cmd", "Serve a STAC API and a read-only page of runs and the catalog."
    ),
}

app = EtlTyper(
    name="etl",
    cls=EtlGroup,
    help="Config-driven ETL of STAC items into PgSTAC, on this machine or on Argo Workflows.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"etl {version('etl-cli')}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            "-p",
            help=f"Profile to use (default: ${PROFILE_ENV}, then `etl profile set`, then local).",
            metavar="NAME",
            show_default=False,
            autocompletion=complete_profiles,
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show tracebacks and debug logs.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    configure_logging(verbose=verbose)
    ctx.obj = CliState(profile_name=profile, verbose=verbose)
    if isinstance(ctx.command, EtlGroup):
        ctx.command.verbose = verbose


@app.command()
def completion(
    ctx: typer.Context,
    shell: Annotated[
        Shells,
        typer.Argument(help=f"One of {choices_metavar(Shells)}.", metavar="SHELL"),
    ],
) -> None:
    """Print the completion script for SHELL.

    It completes etl's commands, options and option values. Load it from the shell's start-up
    file, e.g. `eval "$(etl completion bash)"` in ~/.bashrc, or let `etl --install-completion`
    do that for the current shell.
    """
    prog = ctx.find_root().info_name or "etl"
    complete_var = f"_{prog.upper()}_COMPLETE"
    print(get_completion_script(prog_name=prog, complete_var=complete_var, shell=shell.value))


def main() -> None:
    """The ``etl`` console script."""
    app()
