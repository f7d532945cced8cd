"""Secrets: ``$<< secrets.NAME >>`` values, from the environment and a local file, or Key Vault.

See ``docs/secrets.md``. The Azure SDK is imported only when Key Vault is first asked for a secret.
"""

from etl.core.secrets.keyvault import KeyVaultSecrets
from etl.core.secrets.local import (
    LocalSecrets,
    default_secrets_file,
    read_secrets_file,
    secret_env_var,
    set_local_secret,
)
from etl.core.secrets.resolver import SecretResolver, secret_resolver_for

__all__ = [
    "KeyVaultSecrets",
    "LocalSecrets",
    "SecretResolver",
    "default_secrets_file",
    "read_secrets_file",
    "secret_env_var",
    "secret_resolver_for",
    "set_local_secret",
]
