"""The profile store: ``$ETL_CONFIG_DIR/profiles/NAME.yaml`` and the default in ``config.yaml``.

``ETL_CONFIG_DIR`` defaults to ``$XDG_CONFIG_HOME/etl``, else ``~/.config/etl``. The built-in
``local`` profile always exists; a ``profiles/local.yaml`` file overrides its settings key by key.
Files are written atomically; a profile file holding a credential is readable by its owner only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from etl.core.atomic_files import write_atomically
from etl.core.errors import ConfigError, ProfileError, SourceLocation
from etl.core.input_limits import read_bounded_text
from etl.core.located_yaml import LocatedDocument, load_located_yaml, parse_located_yaml
from etl.core.paths import config_dir
from etl.core.profiles.model import Profile, is_secret_field
from etl.core.profiles.settings import set_keys, unset_keys

__all__ = ["BUILTIN_PROFILE", "ProfileStore"]

BUILTIN_PROFILE = "local"
# No dots: ``profiles/NAME.secrets.yaml`` (etl.core.secrets) sits beside the profile files.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_DEFAULT_KEY = "default_profile"
_EMPTY = "the profile file is empty: write its settings back, or delete it"
_TRUNCATED = (
    "the profile file ends mid-line (truncated?): a profile file ends with a newline; "
    "complete it, or create it again with 'etl profile create NAME --force'"
)


class ProfileStore:
    """Profiles saved as YAML files in a configuration folder.

    Args:
        root: The configuration folder; by default :func:`config_dir` of the process environment.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else config_dir()
        self.profiles_dir = self.root / "profiles"
        self.config_file = self.root / "config.yaml"

    def path_of(self, name: str) -> Path:
        """The file profile ``name`` is saved in (whether or not it exists)."""
        if not _NAME.fullmatch(name):
            raise ProfileError(f"invalid profile name {name!r}: use letters, digits, '_' and '-'")
        return self.profiles_dir / f"{name}.yaml"

    def names(self) -> list[str]:
        """Every profile's name, sorted; ``local`` is always among them."""
        saved = {
            path.stem for path in self.profiles_dir.glob("*.yaml") if _NAME.fullmatch(path.stem)
        }
        return sorted(saved | {BUILTIN_PROFILE})

    def has_file(self, name: str) -> bool:
        """Whether profile ``name`` is saved as a file (``local`` may be built-in only)."""
        return self.path_of(name).is_file()

    def load(self, name: str) -> Profile:
        """Profile ``name`` as saved (no environment applied).

        Raises:
            ProfileError: No such profile.
            ConfigError: The file is invalid (located).
        """
        path = self.path_of(name)
        if not path.is_file():
            if name == BUILTIN_PROFILE:
                return _base(name)
            raise self._unknown(name)
        return _from_document(name, _read_profile_file(path))

    def edit(self, name: str, settings: Sequence[tuple[str, str]], unset: Sequence[str]) -> Profile:
        """Change only the keys named in profile ``name``'s file; every other key stays as it is.

        On the built-in ``local`` the file holds overrides only: unsetting a key brings its
        built-in value back.

        Raises:
            ProfileError: No such profile, an unknown key or an invalid value.
            ConfigError: The file is invalid (located).
        """
        self.load(name)
        path = self.path_of(name)
        data = dict(_read_profile_file(path).data) if path.is_file() else {}
        data.pop("name", None)
        data = set_keys(unset_keys(data, unset), settings, lambda data: _validated(name, data))
        profile = _validated(name, data)
        self._write_profile(path, data)
        return profile

    def replace_text(self, name: str, edited: Path) -> Path:
        """Make the file at ``edited`` (checked as :meth:`load` checks a saved one) profile
        ``name``'s file, text and comments as written; mode 0600 when it holds a credential.

        Raises:
            ConfigError: The edited file is invalid (located in it); the profile is unchanged.
        """
        doc = _read_profile_file(edited)
        _from_document(name, doc)
        path = self.path_of(name)
        mode = 0o600 if _holds_secret(doc.data, ()) else 0o644
        write_atomically(path, read_bounded_text(edited).encode(), mode=mode)
        return path

    def save(self, profile: Profile, *, overwrite: bool = False) -> Path:
        """Write ``profile`` to its file; mode 0600 when it holds a credential.

        Raises:
            ProfileError: The file exists and ``overwrite`` is false.
        """
        path = self.path_of(profile.name)
        if path.exists() and not overwrite:
            raise ProfileError(
                f"profile {profile.name!r} exists ({path}): change keys with 'etl profile edit "
                f"{profile.name}', or replace it with --force"
            )
        self._write_profile(
            path, profile.model_dump(mode="json", exclude_none=True, exclude={"name"})
        )
        return path

    def delete(self, name: str) -> Path:
        """Delete profile ``name``'s file; forget it as the default.

        Raises:
            ProfileError: No such file (the built-in ``local`` cannot be deleted).
        """
        path = self.path_of(name)
        if not path.is_file():
            if name == BUILTIN_PROFILE:
                raise ProfileError("the built-in profile 'local' cannot be deleted")
            raise self._unknown(name)
        path.unlink()
        if self.default_name() == name:
            self._write_config(
                {key: value for key, value in self._read_config().items() if key != _DEFAULT_KEY}
            )
        return path

    def default_name(self) -> str | None:
        """The profile chosen with ``etl profile set``, if any."""
        value = self._read_config().get(_DEFAULT_KEY)
        return str(value) if value else None

    def set_default(self, name: str) -> None:
        """Make ``name`` the default profile.

        Raises:
            ProfileError: No such profile.
        """
        if name != BUILTIN_PROFILE and not self.has_file(name):
            raise self._unknown(name)
        self._write_config({**self._read_config(), _DEFAULT_KEY: name})

    def _unknown(self, name: str) -> ProfileError:
        known = self.names()
        close = get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return ProfileError(f"unknown profile {name!r}{hint}; profiles: {', '.join(known)}")

    def _write_profile(self, path: Path, data: dict[str, Any]) -> None:
        mode = 0o600 if _holds_secret(data, ()) else 0o644
        write_atomically(path, yaml.safe_dump(data, sort_keys=False).encode(), mode=mode)

    def _read_config(self) -> dict[str, Any]:
        if not self.config_file.is_file():
            return {}
        doc = load_located_yaml(self.config_file)
        if not isinstance(doc.data, dict):
            raise ConfigError("config.yaml must be a mapping", location=doc.locate(()))
        return doc.data

    def _write_config(self, data: dict[str, Any]) -> None:
        write_atomically(
            self.config_file, yaml.safe_dump(data, sort_keys=False).encode(), mode=0o644
        )


def _read_profile_file(path: Path) -> LocatedDocument:
    """A profile file, whole: a mapping that ends with a newline.

    An empty or cut-off file never stands for the settings it lost: a file etl wrote ends with a
    newline, so one that stops mid-line was truncated (and an empty one would silently mean the
    built-in settings, e.g. another person's PgSTAC on a shared machine).

    Raises:
        ConfigError: The file is empty, truncated, not a mapping, past the input limits or not
            YAML (located).
    """
    text = read_bounded_text(path)
    doc = parse_located_yaml(text, path)
    if doc.empty:
        raise ConfigError(_EMPTY, location=SourceLocation(path))
    if not text.endswith("\n"):
        last_line = text.count("\n") + 1
        raise ConfigError(_TRUNCATED, location=SourceLocation(path, last_line))
    if not isinstance(doc.data, dict):
        raise ConfigError("a profile file must be a mapping", location=doc.locate(()))
    return doc


def _from_document(name: str, doc: LocatedDocument) -> Profile:
    """Profile ``name`` from its file's document.

    Raises:
        ConfigError: The document names another profile or is not a valid profile (located).
    """
    if doc.data.get("name", name) != name:
        raise doc.error(("name",), f"the file of profile {name!r} names another profile")
    try:
        return _validated(name, doc.data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = tuple(error["loc"])
        raise doc.error(where, error["msg"], key=error["type"] == "extra_forbidden") from None


def _base(name: str) -> Profile:
    """What profile ``name``'s file is laid over: the built-in settings for ``local``."""
    return Profile.builtin_local() if name == BUILTIN_PROFILE else Profile(name=name)


def _validated(name: str, data: dict[str, Any]) -> Profile:
    """Profile ``name`` from its file's mapping ``data`` laid over its base."""
    merged = _merge(_base(name).model_dump(mode="json", exclude_none=True), data)
    return Profile.model_validate({**merged, "name": name})


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _holds_secret(data: dict[str, Any], at: tuple[str, ...]) -> bool:
    for key, value in data.items():
        path = (*at, key)
        if isinstance(value, dict):
            if _holds_secret(value, path):
                return True
        elif value is not None and is_secret_field(".".join(path)):
            return True
    return False
