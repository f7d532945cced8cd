"""Shell completion of names: profiles where a profile belongs, workflows where a workflow does.

Typer calls these while completing (``_ETL_COMPLETE=bash_complete``); nothing is printed and every
failure (no such profile, a runner that cannot be reached) completes nothing rather than a file
name.
"""

from __future__ import annotations

import typer

__all__ = ["complete_profiles", "complete_workflows"]


def complete_profiles(incomplete: str) -> list[str]:
    """Every profile's name starting with ``incomplete``."""
    from etl.core.errors import EtlError
    from etl.core.profiles.store import ProfileStore

    try:
        names = ProfileStore().names()
    except EtlError:
        return []
    return [name for name in names if name.startswith(incomplete)]


def complete_workflows(ctx: typer.Context, incomplete: str) -> list[str]:
    """The names of the workflows of the profile on the line (``-p``, else the usual choice)
    starting with ``incomplete``, newest first."""
    from etl.core.errors import EtlError
    from etl.core.profiles.resolve import resolve_profile
    from etl.runner.select import runner_for

    profile = ctx.find_root().params.get("profile")
    try:
        statuses = runner_for(resolve_profile(profile)).list()
    except EtlError:
        return []
    return [status.name for status in statuses if status.name.startswith(incomplete)]
