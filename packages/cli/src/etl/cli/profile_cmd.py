"""``etl profile``: create, edit, select, list, show, check and delete profiles (docs/profiles.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from etl.cli.completion import complete_profiles
from etl.cli.options import (
    ArgOption,
    CollectionOption,
    OptionalOutputOption,
    OutputOption,
    choices_metavar,
    command_group,
    parse_key_values,
)
from etl.cli.output import OutputFormat, print_outcome, print_result, warn
from etl.cli.state import cli_state
from etl.core.profiles.model import RunnerKind

if TYPE_CHECKING:
    from etl.core.profiles.model import Profile
    from etl.core.profiles.store import ProfileStore

__all__ = ["app"]

app = command_group("Create, select and inspect profiles: where and how etl runs.")

NameArgument = Annotated[
    str,
    typer.Argument(
        help="The profile's name.",
        metavar="NAME",
        show_default=False,
        autocompletion=complete_profiles,
    ),
]


ActiveNameArgument = Annotated[
    str | None,
    typer.Argument(
        help="Default: the active profile.",
        metavar="NAME",
        show_default=False,
        autocompletion=complete_profiles,
    ),
]
"""A profile's name, or none for the active profile."""
SettingsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Any profile key as a dotted path, e.g. storage.ACCOUNT.sas=... (repeatable).",
        metavar="KEY=VALUE",
        show_default=False,
    ),
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
    settings: SettingsOption = None,
    from_profile: Annotated[
        str | None,
        typer.Option(
            "--from",
            autocompletion=complete_profiles,
            help="Start from this profile's settings (default: the built-in local settings for "
            "a local-runner profile, else none).",
            metavar="PROFILE",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing profile, saying what is dropped.")
    ] = False,
    output: OptionalOutputOption = None,
) -> None:
    """Create profile NAME (a file under $ETL_CONFIG_DIR/profiles)."""
    from etl.core.profiles.settings import apply_settings, parse_setting
    from etl.core.profiles.store import ProfileStore

    store = ProfileStore()
    flags = [("runner", runner), ("argo.server", argo_server), ("argo.namespace", namespace)]
    changes = [*flags, *(parse_setting(text) for text in settings or [])]
    profile = apply_settings(_starting_point(store, name, from_profile, changes), changes)
    replacing = _replacing(store, profile) if force and store.has_file(name) else None
    path = store.save(profile, overwrite=force)
    if replacing:
        print(replacing, file=sys.stderr)
    data = {"name": name, "path": str(path), "runner": profile.runner.value}
    print_outcome(f"created profile {name!r} ({path})", data, output, to_stderr=True)
    _warn_about_storage(profile)


@app.command()
def edit(
    name: NameArgument,
    *,
    settings: SettingsOption = None,
    unset: Annotated[
        list[str] | None,
        typer.Option(
            "--unset",
            help="Remove a key: its default (on local: its built-in value) applies (repeatable).",
            metavar="KEY",
            show_default=False,
        ),
    ] = None,
    output: OptionalOutputOption = None,
) -> None:
    """Change some keys of profile NAME; every other key stays as it is.

    Without --set or --unset, open the profile's file in $VISUAL or $EDITOR (as kubectl edit
    does); an edit that is not a valid profile is refused, located, and the file kept as it was.
    """
    from etl.core.profiles.settings import parse_setting
    from etl.core.profiles.store import ProfileStore

    store = ProfileStore()
    if not settings and not unset:
        from etl.cli.profile_editor import edit_in_editor

        saved = edit_in_editor(store, name)
        message = f"edited profile {name!r} ({saved})" if saved else "edit cancelled: no changes"
        data = {"name": name, "path": str(store.path_of(name)), "changed": saved is not None}
        print_outcome(message, data, output, to_stderr=True)
        _warn_about_storage(store.load(name))
        return
    changes = [parse_setting(text) for text in settings or []]
    profile = store.edit(name, changes, unset or [])
    done = [f"set {', '.join(key for key, _ in changes)}"] if changes else []
    done += [f"unset {', '.join(unset)}"] if unset else []
    message = f"edited profile {name!r} ({store.path_of(name)}): {'; '.join(done)}"
    data = {
        "name": name,
        "path": str(store.path_of(name)),
        "set": [key for key, _ in changes],
        "unset": unset or [],
    }
    print_outcome(message, data, output, to_stderr=True)
    _warn_about_storage(profile)


def _starting_point(
    store: ProfileStore, name: str, source: str | None, changes: list[tuple[str, str | None]]
) -> Profile:
    """What a new profile is made from: ``--from``'s settings, else the built-in local ones for a
    local-runner profile, else the defaults."""
    from etl.core.profiles.model import Profile, RunnerKind
    from etl.core.profiles.settings import apply_settings

    if source is not None:
        return Profile.model_validate({**store.load(source).model_dump(), "name": name})
    if apply_settings(Profile(name=name), changes).runner is RunnerKind.LOCAL:
        return Profile.builtin_local(name)
    return Profile(name=name)


def _replacing(store: ProfileStore, profile: Profile) -> str:
    """What ``--force`` says before replacing: the settings of the old profile that are lost."""
    from etl.core.errors import ConfigError
    from etl.core.profiles.redaction import lost_settings

    try:
        lost = lost_settings(store.load(profile.name), profile)
    except ConfigError:
        return f"replacing profile {profile.name!r} (its file was invalid)"
    if not lost:
        return f"replacing profile {profile.name!r} (every setting it had is kept)"
    return f"replacing profile {profile.name!r}: dropped {', '.join(lost)}"


def _warn_about_storage(profile: Profile) -> None:
    from etl.core.profiles.storage_check import storage_warnings

    for warning in storage_warnings(profile):
        warn(warning)


@app.command("set")
def set_default(name: NameArgument, output: OptionalOutputOption = None) -> None:
    """Make NAME the default profile (ETL_PROFILE and -p still win)."""
    from etl.core.profiles.store import ProfileStore

    ProfileStore().set_default(name)
    print_outcome(f"default profile: {name}", {"default": name}, output, to_stderr=True)


@app.command("list")
def list_profiles(ctx: typer.Context, output: OutputOption = OutputFormat.TABLE) -> None:
    """List every profile; the active one is marked."""
    from etl.core.profiles.resolve import active_profile_name
    from etl.core.profiles.store import ProfileStore

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
    name: ActiveNameArgument = None,
    output: OutputOption = OutputFormat.YAML,
) -> None:
    """Show a profile's effective settings (file + environment), credentials redacted."""
    from etl.core.profiles.redaction import redacted_profile
    from etl.core.profiles.resolve import resolve_profile

    profile = resolve_profile(name or cli_state(ctx).profile_name)
    print_result(redacted_profile(profile), output)


@app.command()
def check(
    ctx: typer.Context,
    name: ActiveNameArgument = None,
    *,
    dataset: Annotated[
        Path | None,
        typer.Option(
            "--dataset",
            "-d",
            help="Also check what this dataset's runs use: its storage and secrets.",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    collection: CollectionOption = None,
    arg: ArgOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Check that a profile's services answer (like `dbt debug`): PgSTAC, storage, secrets and,
    on Argo, the Argo Server; says what cannot be checked from here. Exit 0 when all is well."""
    from etl.core.profiles.resolve import resolve_profile
    from etl.runner.preflight import preflight

    profile = resolve_profile(name or cli_state(ctx).profile_name)
    loaded = None
    if dataset is not None:
        from etl.dataset.loader import load_dataset

        loaded = load_dataset(dataset, args=parse_key_values(arg), profile=profile)
        loaded.select_collections(collection or [])
    report = preflight(profile, dataset=loaded, collections=collection or None)
    if output is OutputFormat.TABLE:
        rows = [c.to_json() for c in report.checks]
        print_result(rows, output)
        print(f"{len(report.checks)} checks in {report.seconds:.2f} s", file=sys.stderr)
    else:
        print_result(report.to_json(), output)
    report.raise_for_problems()


@app.command()
def delete(name: NameArgument, output: OptionalOutputOption = None) -> None:
    """Delete profile NAME's file (the built-in local profile stays)."""
    from etl.core.profiles.store import ProfileStore

    path = ProfileStore().delete(name)
    data = {"name": name, "path": str(path), "deleted": True}
    print_outcome(f"deleted profile {name!r} ({path})", data, output, to_stderr=True)
