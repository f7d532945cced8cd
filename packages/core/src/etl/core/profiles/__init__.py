"""Profiles: the per-environment settings of etl, their store and how the active one is chosen.

See ``docs/profiles.md``. Importing this package imports pydantic: the CLI imports it only inside
commands, never at start-up.
"""

from etl.core.profiles.environment import apply_environment, environment_settings
from etl.core.profiles.local_services import azurite_blob_endpoint, local_pgstac_dsn
from etl.core.profiles.model import (
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    SECRET_FIELDS,
    ArgoSettings,
    LocalExecutor,
    LocalSettings,
    PgstacSettings,
    Profile,
    RunnerKind,
    SecretsBackend,
    SecretsSettings,
    StorageAccount,
    StorageTimeouts,
    WorkflowDefaults,
    is_secret_field,
)
from etl.core.profiles.redaction import REDACTED, lost_settings, redact_dsn, redacted_profile
from etl.core.profiles.resolve import active_profile_name, resolve_profile
from etl.core.profiles.settings import apply_settings, parse_setting, valid_keys
from etl.core.profiles.storage_check import (
    check_storage_uris,
    storage_credential_problem,
    storage_warnings,
)
from etl.core.profiles.store import BUILTIN_PROFILE, ProfileStore

__all__ = [
    "AZURITE_ACCOUNT",
    "AZURITE_KEY",
    "BUILTIN_PROFILE",
    "REDACTED",
    "SECRET_FIELDS",
    "ArgoSettings",
    "LocalExecutor",
    "LocalSettings",
    "PgstacSettings",
    "Profile",
    "ProfileStore",
    "RunnerKind",
    "SecretsBackend",
    "SecretsSettings",
    "StorageAccount",
    "StorageTimeouts",
    "WorkflowDefaults",
    "active_profile_name",
    "apply_environment",
    "apply_settings",
    "azurite_blob_endpoint",
    "check_storage_uris",
    "environment_settings",
    "is_secret_field",
    "local_pgstac_dsn",
    "lost_settings",
    "parse_setting",
    "redact_dsn",
    "redacted_profile",
    "resolve_profile",
    "storage_credential_problem",
    "storage_warnings",
    "valid_keys",
]
