"""What the root ``etl`` options decide for every command: the profile and verbosity."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from etl.core.profiles.model import Profile
    from etl.runner.workflow_runner import WorkflowRunner

__all__ = ["CliState", "active_profile", "active_runner", "cli_state"]


@dataclass
class CliState:
    """The root options: ``-p/--profile`` and ``-v/--verbose``."""

    profile_name: str | None = None
    verbose: bool = False


def cli_state(ctx: typer.Context) -> CliState:
    """The root options of the running command line."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliState) else CliState()


def active_profile(ctx: typer.Context, overrides: Iterable[tuple[str, str | None]] = ()) -> Profile:
    """The effective profile: ``-p`` or the usual choice, its file, the environment, then
    ``overrides`` (``(dotted key, value)`` from a command's flags; ``None`` values skipped).

    Raises:
        ProfileError: Unknown profile or invalid setting.
    """
    from etl.core.profiles.resolve import resolve_profile

    return resolve_profile(cli_state(ctx).profile_name, overrides=overrides)


def active_runner(ctx: typer.Context) -> WorkflowRunner:
    """The runner of the effective profile (:func:`etl.runner.runner_for`).

    Raises:
        ProfileError: Unknown profile, invalid setting, or an argo runner with no server.
    """
    from etl.runner.select import runner_for

    return runner_for(active_profile(ctx))
