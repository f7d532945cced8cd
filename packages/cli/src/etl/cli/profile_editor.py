"""``etl profile edit NAME`` without flags: the profile's file in ``$VISUAL``/``$EDITOR``, as
``kubectl edit`` and ``gh`` do.

The file is copied to a temporary file, the editor runs on the copy, and the copy replaces the
profile only when it is a valid profile (:meth:`etl.core.profiles.ProfileStore.replace_text`:
bounded parse, the profile model). An invalid copy is kept for another try and the error is
located in it; the profile's file is untouched.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from etl.core.errors import ConfigError, ProfileError
from etl.core.profiles.store import ProfileStore

__all__ = ["EDITOR_VARIABLES", "edit_in_editor"]

EDITOR_VARIABLES = ("VISUAL", "EDITOR")
"""Where the editor's command is read, first found wins; ``vi`` without them, on a terminal."""
_FALLBACK_EDITOR = "vi"
_NEW_LOCAL_FILE = (
    "# Overrides of the built-in local profile: only the keys written here change.\n{}\n"
)


def edit_in_editor(store: ProfileStore, name: str) -> Path | None:
    """Let the user edit profile ``name``'s file; its path once saved, ``None`` if unchanged.

    Raises:
        ProfileError: No such profile, no editor (none set, and no terminal for ``vi``), or
            the editor failed.
        ConfigError: The edited text is not a valid profile (located in the kept copy).
    """
    store.load(name)
    command = next((os.environ[v] for v in EDITOR_VARIABLES if os.environ.get(v)), None)
    if command is None and not sys.stdin.isatty():
        raise ProfileError(
            f"no editor for profile {name!r}: set $EDITOR, or give --set KEY=VALUE or --unset KEY"
        )
    path = store.path_of(name)
    before = path.read_text(encoding="utf-8") if path.is_file() else _NEW_LOCAL_FILE
    handle, copy_name = tempfile.mkstemp(prefix=f"etl-profile-{name}-", suffix=".yaml")
    copy = Path(copy_name)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(before)
    _run_editor(command or _FALLBACK_EDITOR, copy)
    if copy.read_text(encoding="utf-8", errors="replace") == before:
        copy.unlink()
        return None
    try:
        saved = store.replace_text(name, copy)
    except ConfigError as exc:
        raise ConfigError(
            f"{exc.message}; profile {name!r} is unchanged, your edit is kept in {copy}",
            location=exc.location,
            field=exc.field,
        ) from None
    copy.unlink()
    return saved


def _run_editor(command: str, path: Path) -> None:
    argv = [*shlex.split(command), str(path)]
    try:
        done = subprocess.run(argv, check=False)
    except OSError as exc:
        raise ProfileError(f"cannot start the editor {argv[0]!r}: {exc.strerror}") from None
    if done.returncode != 0:
        raise ProfileError(f"the editor {argv[0]!r} exited {done.returncode}; nothing was changed")
