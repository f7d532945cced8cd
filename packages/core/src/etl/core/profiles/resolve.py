"""Which profile is active, and its effective settings.

Which profile: ``-p NAME`` > ``ETL_PROFILE`` > the default set with ``etl profile set`` > ``local``.
Which value: flag > environment > profile file > default.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from etl.core.env_names import PROFILE_ENV
from etl.core.paths import config_dir
from etl.core.profiles.environment import apply_environment
from etl.core.profiles.model import Profile
from etl.core.profiles.settings import apply_settings
from etl.core.profiles.store import BUILTIN_PROFILE, ProfileStore

__all__ = ["active_profile_name", "resolve_profile"]


def active_profile_name(
    name: str | None, env: Mapping[str, str] = os.environ, *, store: ProfileStore | None = None
) -> str:
    """The name of the profile in use: ``name`` (from ``-p``), else ``ETL_PROFILE``, else the
    default chosen with ``etl profile set``, else ``local``."""
    if name:
        return name
    if env.get(PROFILE_ENV):
        return env[PROFILE_ENV]
    store = store if store is not None else ProfileStore(config_dir(env))
    return store.default_name() or BUILTIN_PROFILE


def resolve_profile(
    name: str | None,
    env: Mapping[str, str] = os.environ,
    *,
    overrides: Iterable[tuple[str, str | None]] = (),
    root: Path | None = None,
) -> Profile:
    """The effective profile: its file (or the built-in ``local``), then the environment, then
    ``overrides`` (``(dotted key, value)`` pairs from command-line flags; ``None`` values skipped).

    Args:
        name: The profile named with ``-p``, or ``None`` to pick as described above.
        env: The environment to read ``ETL_*``/``ARGO_*`` variables from.
        overrides: Settings from flags, which win over everything.
        root: The configuration folder; default ``config_dir(env)``.

    Raises:
        ProfileError: The profile does not exist, or a setting is invalid.
        ConfigError: The profile file is invalid.
    """
    store = ProfileStore(root if root is not None else config_dir(env))
    profile = store.load(active_profile_name(name, env, store=store))
    return apply_settings(apply_environment(profile, env), overrides)
