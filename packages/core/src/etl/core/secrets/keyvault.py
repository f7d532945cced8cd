"""The Azure Key Vault secret backend (``secrets.backend: keyvault`` in a profile).

In pods the credential is the pod's workload identity through ``DefaultAzureCredential``. The
Azure SDK is imported on the first :meth:`KeyVaultSecrets.get`, never at import time.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from etl.core.azure_identity import default_credential
from etl.core.errors import MissingSecretError, SecretError

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.core.exceptions import AzureError
    from azure.core.pipeline.transport import HttpTransport
    from azure.keyvault.secrets import SecretClient

__all__ = ["KeyVaultSecrets"]


class KeyVaultSecrets:
    """Secrets read from one Key Vault, each fetched once per instance and then cached.

    Args:
        vault_url: The vault, e.g. ``https://myvault.vault.azure.net`` (HTTPS only).
        credential: Any Azure ``TokenCredential``; default ``DefaultAzureCredential()``.
        transport: The HTTP transport of the SDK pipeline (default: the SDK's own).

    Raises:
        SecretError: when ``vault_url`` is not an HTTPS URL.
    """

    def __init__(
        self,
        vault_url: str,
        credential: TokenCredential | None = None,
        *,
        transport: HttpTransport[Any, Any] | None = None,
    ) -> None:
        if not vault_url.lower().startswith("https://"):
            raise SecretError(f"Key Vault URL must start with https://: {vault_url}")
        self.vault_url = vault_url.rstrip("/")
        self._credential = credential
        self._transport = transport
        self._client: SecretClient | None = None
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KeyVaultSecrets({self.vault_url!r})"

    def get(self, name: str) -> str:
        """The value of secret ``name`` (its current version).

        Raises:
            SecretError: naming the secret and the vault (never a value) when it cannot be read.
        """
        with self._lock:
            if name in self._values:
                return self._values[name]
            value = self._fetch(name)
            self._values[name] = value
            return value

    def forget(self, name: str) -> None:
        """Drop the cached value of ``name``: the next :meth:`get` reads the vault again."""
        with self._lock:
            self._values.pop(name, None)

    def _fetch(self, name: str) -> str:
        from azure.core.exceptions import AzureError

        try:
            secret = self._secret_client().get_secret(name)
        except AzureError as exc:
            raise self._error(name, exc) from None
        except ValueError as exc:  # e.g. a challenge for another resource than the vault
            raise SecretError(
                f"cannot read secret {name!r} from Key Vault {self.vault_url}: {exc}"
            ) from None
        if secret.value is None:
            raise SecretError(f"secret {name!r} in Key Vault {self.vault_url} has no value")
        return str(secret.value)

    def _secret_client(self) -> SecretClient:
        if self._client is None:
            from azure.keyvault.secrets import SecretClient

            credential = self._credential
            if credential is None:
                credential = default_credential()
            options = {"transport": self._transport} if self._transport is not None else {}
            self._client = SecretClient(self.vault_url, credential, **options)
        return self._client

    def _error(self, name: str, exc: AzureError) -> SecretError:
        from azure.core.exceptions import (
            ClientAuthenticationError,
            HttpResponseError,
            ResourceNotFoundError,
            ServiceRequestError,
            ServiceResponseError,
        )

        where = f"secret {name!r} in Key Vault {self.vault_url}"
        if isinstance(exc, ResourceNotFoundError):
            return MissingSecretError(f"{where} was not found")
        status = getattr(exc, "status_code", None)
        if isinstance(exc, ClientAuthenticationError) or status == 401:
            return SecretError(f"cannot read {where}: authentication failed: {_first_line(exc)}")
        if status == 403:
            return SecretError(
                f"cannot read {where}: access denied (HTTP 403); the identity needs permission"
                " to get secrets (role 'Key Vault Secrets User')"
            )
        if isinstance(exc, HttpResponseError) and status is not None:
            return SecretError(
                f"cannot read {where}: HTTP {status} {exc.reason or ''}".rstrip(),
                transient=status in (408, 429) or status >= 500,
            )
        if isinstance(exc, ServiceRequestError | ServiceResponseError):
            return SecretError(
                f"cannot reach Key Vault {self.vault_url} for secret {name!r}", transient=True
            )
        return SecretError(f"cannot read {where}: {_first_line(exc)}")


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
