"""``etl profile``: create, select, list, show and delete profiles (see docs/profiles.md)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from etl.cli.options import OutputOption, choices_metavar, command_group
from etl.cli.output import OutputFormat, print_result
from etl.cli.state import cli_state
from etl.core.runners import RunnerKind

__all__ = ["app"]

app = command_group("Create, select and inspect profiles: where and how etl runs.")

NameArgument = Annotated[
    str, typer.Argument(help="The profile's name.", metavar="NAME", show_default=False)
]


@app.command()
def create(
    name: NameArgument,
    *,
    runner: Annotated[
        RunnerKind | None,
        typer.Option(
            help="Where workflows run: on this machine or on an Argo Server.",
            metavar=choices_metavar(RunnerKind),
            show_default=False,
        ),
    ] = None,
    argo_server: Annotated[
        str | None,
        typer.Option(
            help="Argo Server URL, e.g. https://argo.example.com:2746.",
            metavar="URL",
            show_default=False,
        ),
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option(
            help="Namespace workflows are submitted to.", metavar="NS", show_default=False
        ),
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Any profile key as a dotted path, e.g. storage.ACCOUNT.sas=... (repeatable).",
            metavar="KEY=VALUE",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing profile.")] = False,
) -> None:
    """Create profile NAME (a file under $ETL_CONFIG_DIR/profiles)."""
    from etl.core.profiles import (
        BUILTIN_PROFILE,
        Profile,
        ProfileStore,
        apply_settings,
        parse_setting,
    )

    base = Profile.builtin_local() if name == BUILTIN_PROFILE else Profile(name=name)
    flags = [("runner", runner), ("argo.server", argo_server), ("argo.namespace", namespace)]
    profile = apply_settings(base, [*flags, *(parse_setting(text) for text in settings or [])])
    path = ProfileStore().save(profile, overwrite=force)
    print(f"created profile {name!r} ({path})", file=sys.stderr)


@app.command("set")
def set_default(name: NameArgument) -> None:
    """Make NAME the default profile (ETL_PROFILE and -p still win)."""
    from etl.core.profiles import ProfileStore

    ProfileStore().set_default(name)
    print(f"default profile: {name}", file=sys.stderr)


@app.command("list")
def list_profiles(ctx: typer.Context, output: OutputOption = OutputFormat.TABLE) -> None:
    """List every profile; the active one is marked."""
    from etl.core.profiles import ProfileStore, active_profile_name

    store = ProfileStore()
    active = active_profile_name(cli_state(ctx).profile_name, store=store)
    rows: list[dict[str, Any]] = []
    for name in store.names():
        profile = store.load(name)
        rows.append(
            {
                "name": name,
                "active": name == active,
                "runner": profile.runner.value,
                "argo_server": profile.argo.server,
                "namespace": profile.argo.namespace,
                "source": "file" if store.has_file(name) else "built-in",
            }
        )
    if output is OutputFormat.TABLE:
        rows = [{"": "*" if row.pop("active") else "", **row} for row in rows]
    print_result(rows, output)


@app.command()
def show(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(help="Default: the active profile.", metavar="NAME", show_default=False),
    ] = None,
    output: OutputOption = OutputFormat.YAML,
) -> None:
    """Show a profile's effective settings (file + environment), credentials redacted."""
    from etl.core.profiles import redacted_profile, resolve_profile

    profile = resolve_profile(name or cli_state(ctx).profile_name)
    print_result(redacted_profile(profile), output)


@app.command()
def delete(name: NameArgument) -> None:
    """Delete profile NAME's file (the built-in local profile stays)."""
    from etl.core.profiles import ProfileStore

    path = ProfileStore().delete(name)
    print(f"deleted profile {name!r} ({path})", file=sys.stderr)
