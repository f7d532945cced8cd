"""etl.core: errors, located YAML, ``$<< >>`` templating, profiles, progress, storage and secrets.

Only the error hierarchy is imported eagerly. Every other name is imported on first use, so that
``import etl.core.errors`` (which runs this file) stays cheap for ``etl --help``: pydantic, PyYAML
and rich load only when a command needs them. To export a name, add it to ``__all__``, the
``TYPE_CHECKING`` block and ``_LAZY`` (``tests/core/test_package_faces.py`` checks that they agree).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl.core.errors import (
    ConfigError,
    EtlError,
    InputError,
    MissingSecretError,
    OptionError,
    ProfileError,
    RemoteError,
    RunError,
    SecretError,
    SourceLocation,
    StorageError,
    TaskError,
    TemplateError,
    UnknownCollectionError,
    WorkflowFailedError,
)
from etl.core.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from etl.core.located_yaml import LocatedDocument, load_located_yaml, parse_located_yaml
    from etl.core.profiles import Profile, ProfileStore, redacted_profile, resolve_profile
    from etl.core.progress import report_progress
    from etl.core.templating import (
        TemplateContext,
        find_secret_refs,
        render_document,
        resolve_secret_refs,
    )

__all__ = [
    "ConfigError",
    "EtlError",
    "InputError",
    "LocatedDocument",
    "MissingSecretError",
    "OptionError",
    "Profile",
    "ProfileError",
    "ProfileStore",
    "RemoteError",
    "RunError",
    "SecretError",
    "SourceLocation",
    "StorageError",
    "TaskError",
    "TemplateContext",
    "TemplateError",
    "UnknownCollectionError",
    "WorkflowFailedError",
    "find_secret_refs",
    "load_located_yaml",
    "parse_located_yaml",
    "redacted_profile",
    "render_document",
    "report_progress",
    "resolve_profile",
    "resolve_secret_refs",
]

_LAZY = {
    "LocatedDocument": "etl.core.located_yaml",
    "load_located_yaml": "etl.core.located_yaml",
    "parse_located_yaml": "etl.core.located_yaml",
    "Profile": "etl.core.profiles",
    "ProfileStore": "etl.core.profiles",
    "redacted_profile": "etl.core.profiles",
    "resolve_profile": "etl.core.profiles",
    "report_progress": "etl.core.progress",
    "TemplateContext": "etl.core.templating",
    "find_secret_refs": "etl.core.templating",
    "render_document": "etl.core.templating",
    "resolve_secret_refs": "etl.core.templating",
}


__getattr__ = lazy_getattr(__name__, _LAZY)
