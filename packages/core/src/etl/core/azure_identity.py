"""The Azure AD identity etl falls back to when a profile gives no key: ``DefaultAzureCredential``.

``DefaultAzureCredential`` reports that no credential worked as a block of a dozen lines (one per
credential it tried, with troubleshooting links), logged as a warning and raised as
``ClientAuthenticationError``. :func:`default_credential` wraps it so that the error is one line
naming what was tried and what to do; the SDK's block stays on the exception chain
(``__cause__``), which ``etl -v`` and ``etl-task -v`` print. The warning itself is silenced by
:func:`etl.core.log_setup.configure_logging` unless verbose.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, TokenCredential

__all__ = ["IdentityCredential", "default_credential", "one_line_identity_failure"]

_ATTEMPT = re.compile(r"^\t(\w+?)(?:Credential)?: ", re.MULTILINE)

HINT = (
    "in a pod give it a workload identity, on a laptop run `az login`, or set the account's key,"
    " sas or connection_string in the profile; -v shows each credential's answer"
)
"""What to do when no Azure AD credential is available, for the one-line message."""


def one_line_identity_failure(message: str) -> str:
    """``DefaultAzureCredential``'s multi-line failure ``message`` as one line with a hint."""
    tried = _ATTEMPT.findall(message)
    if not tried:
        first = message.strip().splitlines()
        return first[0] if first else "DefaultAzureCredential failed"
    return f"no Azure AD credential worked (tried {', '.join(tried)}): {HINT}"


class IdentityCredential:
    """A ``TokenCredential`` that raises one-line ``ClientAuthenticationError``s.

    Args:
        inner: The credential asked for tokens (``DefaultAzureCredential``).
    """

    def __init__(self, inner: TokenCredential) -> None:
        self._inner = inner

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """A token for ``scopes`` from the inner credential; failures as one line."""
        from azure.core.exceptions import ClientAuthenticationError

        try:
            return self._inner.get_token(*scopes, **kwargs)
        except ClientAuthenticationError as exc:
            detail = str(getattr(exc, "message", None) or exc)
            raise ClientAuthenticationError(message=one_line_identity_failure(detail)) from exc

    def close(self) -> None:
        """Close the inner credential's transport."""
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


@cache
def default_credential() -> TokenCredential:
    """One quiet ``DefaultAzureCredential`` per process (it caches tokens)."""
    from azure.identity import DefaultAzureCredential

    return IdentityCredential(DefaultAzureCredential())
