"""``etl serve``: a STAC API and a read-only web page of runs and the catalog, for the active
profile (:mod:`etl.serve`; FastAPI, stac-fastapi-pgstac and uvicorn load only here)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from etl.cli.options import ArgOption, OptionalOutputOption, command_group
from etl.cli.output import OutputFormat, print_result
from etl.cli.selection import load_selection
from etl.cli.state import active_profile, active_runner

__all__ = ["app"]

app = command_group("Serve a STAC API and a read-only page of runs and the catalog.")


@app.command()
def serve(
    ctx: typer.Context,
    *,
    port: Annotated[
        int,
        typer.Option(
            "--port", min=0, max=65535, help="Port to listen on (0: any free port).", metavar="N"
        ),
    ] = 8750,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on.", metavar="ADDRESS")
    ] = "127.0.0.1",
    no_api: Annotated[
        bool, typer.Option("--no-api", help="Serve the page only, without the STAC API.")
    ] = False,
    dataset: Annotated[
        list[Path] | None,
        typer.Option(
            "--dataset",
            "-d",
            help="A dataset.yaml (or its folder) whose collections' pages show their last "
            "success and outstanding failures; repeatable.",
            metavar="PATH",
        ),
    ] = None,
    arg: ArgOption = None,
    output: OptionalOutputOption = None,
) -> None:
    """Serve the active profile's catalog and runs until stopped (Ctrl-C).

    Prints the page's URL, then the STAC API's (`/stac`, stac-fastapi-pgstac over the profile's
    PgSTAC: pystac-client, QGIS and STAC Browser can use it). The page lists the runner's runs
    (steps, failed assets, logs) and PgSTAC's collections (items, extent, a map of the items'
    footprints, items per day). Read-only; no secret is shown. While it runs, `etl workflow get`
    and the end of a run print the run's page. With -o json: one object, {"page", "stac"}.
    """
    from etl.core.profile_services import ProfileServices
    from etl.serve.app import ServeContext
    from etl.serve.server import serve as run_server

    profile = active_profile(ctx)
    context = ServeContext(
        profile=profile,
        runner=active_runner(ctx),
        dsn=ProfileServices.for_profile(profile).pgstac_dsn(),
        api=not no_api,
    )
    for path in dataset or []:
        loaded, selected = load_selection(ctx, path, None, arg)
        context.datasets.update({chosen.id: (loaded, chosen) for chosen in selected})

    def announce(page: str, stac: str | None) -> None:
        if output is None or output is OutputFormat.TABLE:
            print(f"page of runs and the catalog: {page}")
            if stac is not None:
                print(f"STAC API: {stac}")
        elif output is OutputFormat.JSON:  # one line: a script reads it while the server runs
            print(json.dumps({"page": page, "stac": stac}))
        else:
            print_result({"page": page, "stac": stac}, output)
        sys.stdout.flush()

    run_server(context, host, port, announce)
