"""The local secret backend: environment variables, then the profile's secrets file.

``$<< secrets.pgstac-dsn >>`` reads ``ETL_SECRET_PGSTAC_DSN`` first, then the key ``pgstac-dsn`` of
``$ETL_CONFIG_DIR/profiles/<profile>.secrets.yaml``, a YAML mapping of name to value that must be
readable by its owner only (mode 0600): a file open to group or others is refused.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

import yaml

from etl.core.atomic_files import write_atomically
from etl.core.errors import MissingSecretError, SecretError
from etl.core.paths import config_dir
from etl.core.pod_contract import SECRET_ENV_PREFIX

__all__ = [
    "LocalSecrets",
    "default_secrets_file",
    "read_secrets_file",
    "secret_env_var",
    "set_local_secret",
]

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def secret_env_var(name: str) -> str:
    """The environment variable for secret ``name``: ``pgstac-dsn`` → ``ETL_SECRET_PGSTAC_DSN``."""
    _check_name(name)
    return SECRET_ENV_PREFIX + name.replace("-", "_").replace(".", "_").upper()


def default_secrets_file(profile_name: str, env: Mapping[str, str] | None = None) -> Path:
    """``$ETL_CONFIG_DIR/profiles/<profile>.secrets.yaml``."""
    return (
        config_dir(os.environ if env is None else env) / "profiles" / f"{profile_name}.secrets.yaml"
    )


class LocalSecrets:
    """Secrets from ``ETL_SECRET_*`` environment variables, then from the profile's secrets file.

    Args:
        profile_name: Whose secrets file is read.
        env: The environment to read (default ``os.environ``).
        file: The secrets file (default :func:`default_secrets_file`).
    """

    def __init__(
        self,
        profile_name: str = "local",
        *,
        env: Mapping[str, str] | None = None,
        file: Path | None = None,
    ) -> None:
        self.profile_name = profile_name
        self._env = os.environ if env is None else env
        self.file = file if file is not None else default_secrets_file(profile_name, self._env)
        self._file_values: dict[str, str] | None = None

    def __repr__(self) -> str:
        return f"LocalSecrets(profile_name={self.profile_name!r}, file={str(self.file)!r})"

    def forget(self, name: str) -> None:
        """Drop what was read of the secrets file: the next :meth:`get` reads it again."""
        self._file_values = None

    def get(self, name: str) -> str:
        """The value of secret ``name``.

        Raises:
            MissingSecretError: naming the secret, the variable to set and the file, when it is
                not found.
            SecretError: when the secrets file cannot be read (its mode, its YAML), named as such.
        """
        variable = secret_env_var(name)
        if variable in self._env:
            return self._env[variable]
        if self._file_values is None:
            self._file_values = read_secrets_file(self.file)
        if name in self._file_values:
            return self._file_values[name]
        raise MissingSecretError(
            f"secret {name!r} is not set: set the environment variable {variable} or add"
            f" {name!r} to {self.file} (etl keeps that file at mode 0600)"
        )


def read_secrets_file(path: Path) -> dict[str, str]:
    """The name → value mapping of a secrets file; ``{}`` when it does not exist.

    Raises:
        SecretError: when the file is open to group or others, or is not a mapping of strings.
            Messages never quote the file's content.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    if mode & 0o077:
        raise SecretError(
            f"refusing to read secrets file {path}: it is accessible by group or others"
            f" (mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise SecretError(f"secrets file {path}{where} is not valid YAML") from None
    except OSError as exc:
        raise SecretError(f"cannot read secrets file {path}: {exc.strerror}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SecretError(f"secrets file {path} must be a mapping of secret name to value")
    values: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(key, str) or isinstance(value, bool) or value is None:
            raise SecretError(f"secrets file {path}: entry {key!r} must map a name to a string")
        if not isinstance(value, str | int | float):
            raise SecretError(f"secrets file {path}: secret {key!r} must be a string")
        values[key] = str(value)
    return values


def set_local_secret(
    profile_name: str,
    name: str,
    value: str,
    *,
    env: Mapping[str, str] | None = None,
    file: Path | None = None,
) -> Path:
    """Store secret ``name`` in the profile's secrets file (created at mode 0600); returns its path.

    Raises:
        SecretError: for an invalid name, or an existing file open to group or others.
    """
    _check_name(name)
    path = file if file is not None else default_secrets_file(profile_name, env)
    values = read_secrets_file(path)
    values[name] = value
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = yaml.safe_dump(values, sort_keys=True, default_flow_style=False)
    write_atomically(path, text.encode(), mode=0o600)
    return path


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise SecretError(f"invalid secret name {name!r}: use letters, digits, '-', '_' and '.'")
