"""Where etl keeps its files on this machine: the config folder and the state folder."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from etl.core.pod_contract import CONFIG_DIR_ENV, STATE_DIR_ENV

__all__ = ["RUNS_FOLDER", "config_dir", "state_dir"]

RUNS_FOLDER = "runs"
"""The state folder's folder of the local runner's run records: ``runs/NAME/`` per run."""


def config_dir(env: Mapping[str, str] = os.environ) -> Path:
    """``$ETL_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/etl``, else ``~/.config/etl``."""
    if env.get(CONFIG_DIR_ENV):
        return Path(env[CONFIG_DIR_ENV])
    if env.get("XDG_CONFIG_HOME"):
        return Path(env["XDG_CONFIG_HOME"]) / "etl"
    return Path.home() / ".config" / "etl"


def state_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Local run records, code bundles and local item storage.

    ``$ETL_STATE_DIR``, else ``$XDG_STATE_HOME/etl``, else ``~/.local/state/etl``.
    """
    if env.get(STATE_DIR_ENV):
        return Path(env[STATE_DIR_ENV])
    if env.get("XDG_STATE_HOME"):
        return Path(env["XDG_STATE_HOME"]) / "etl"
    return Path.home() / ".local" / "state" / "etl"
