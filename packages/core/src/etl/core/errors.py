"""The one error hierarchy of etl.

Every error a user can meet is an :class:`EtlError`. The CLI turns it into one line on stderr and an
exit code in one place (``etl.cli``), so library code only ever raises::

    EtlError                      base; ``exit_code`` says how the CLI exits
    ├── InputError                exit 2: the input is wrong, nothing ran
    │   ├── ConfigError           a file (dataset.yaml, profile, template) is invalid; carries its location
    │   │   └── TemplateError     a ``$<< ... >>`` expression cannot be evaluated
    │   ├── ProfileError          unknown profile, bad profile key or value
    │   └── UnknownCollectionError  ``-c ID`` names no collection of the dataset
    └── RunError                  exit 1: the work ran and failed
        ├── StorageError          reading, writing or listing storage failed
        │   └── StorageAuthenticationError  the storage refused the credentials (e.g. an expired SAS)
        ├── SecretError           a secret could not be resolved
        │   └── MissingSecretError  the backend has no such secret (not: it cannot be read)
        ├── RemoteError           a remote service (Argo Server, PgSTAC) refused or is unreachable
        ├── WorkflowFailedError   a workflow ended Failed or Error
        ├── RunInterruptedError   Ctrl-C stopped the run this command was running (exit 130)
        └── TaskError             a task inside a workflow failed

Every error is *permanent* (trying again cannot help: not found, forbidden, authentication, invalid
input) unless it says it is *transient* (:attr:`EtlError.transient`: a timeout, a dropped
connection, HTTP 5xx, throttling; raise e.g. ``StorageError(..., transient=True)``). Only transient
errors are retried: inside the pod ``etl-task`` exits :data:`~etl.core.pod_contract.EXIT_TRANSIENT`,
which the workflow's ``retryStrategy`` retries, and any other error exits
:data:`~etl.core.pod_contract.EXIT_PERMANENT`, which it does not (docs/errors.md has the table).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ConfigError",
    "EtlError",
    "InputError",
    "MissingSecretError",
    "ProfileError",
    "RemoteError",
    "RunError",
    "RunInterruptedError",
    "SecretError",
    "SourceLocation",
    "StorageAuthenticationError",
    "StorageError",
    "TaskError",
    "TemplateError",
    "UnknownCollectionError",
    "WorkflowFailedError",
]


@dataclass(frozen=True)
class SourceLocation:
    """A position in a source file: 1-based line and column."""

    path: Path | str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [str(self.path)]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class EtlError(Exception):
    """Base class of every error etl reports to a user.

    ``transient=True`` marks an error that trying again later may cure; a class can also set
    :attr:`transient` for all its instances.
    """

    exit_code: int = 1
    transient: bool = False

    def __init__(self, *args: object, transient: bool | None = None) -> None:
        super().__init__(*args)
        if transient is not None:
            self.transient = transient


class InputError(EtlError):
    """The user's input is invalid; nothing was run (exit code 2)."""

    exit_code = 2


class OptionError(InputError):
    """An option of a library call has an invalid value.

    The library names the option as its parameter (``limit 0: ...``); the CLI shows the same
    message with the option's flag (:attr:`flag_message`: ``--limit 0: ...``).
    """

    def __init__(self, option: str, detail: str) -> None:
        self.option = option
        self.detail = detail
        super().__init__(self._joined(option))

    @property
    def flag_message(self) -> str:
        """The message as the CLI says it, with the option's ``--flag``."""
        return self._joined(f"--{self.option.replace('_', '-')}")

    def _joined(self, name: str) -> str:
        return f"{name}{'' if self.detail.startswith(':') else ' '}{self.detail}"


class ConfigError(InputError):
    """A configuration file is invalid at a known place.

    Renders as ``PATH:LINE:COL: field.path: message``; parts that are unknown are left out.
    """

    def __init__(
        self,
        message: str,
        *,
        location: SourceLocation | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.location = location
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        prefix = f"{self.location}: " if self.location else ""
        field = f"{self.field}: " if self.field else ""
        return f"{prefix}{field}{self.message}"


class TemplateError(ConfigError):
    """A ``$<< ... >>`` expression names something unknown or is not allowed."""


class ProfileError(InputError):
    """A profile does not exist, or a profile key or value is invalid."""


class UnknownCollectionError(InputError):
    """A ``--collection`` id names no collection of the dataset."""

    def __init__(self, collection_id: str, known: list[str]) -> None:
        self.collection_id = collection_id
        self.known = known
        super().__init__(
            f"unknown collection {collection_id!r}; the dataset has: {', '.join(known) or 'none'}"
        )


class RunError(EtlError):
    """The work ran and failed (exit code 1)."""

    exit_code = 1


class StorageError(RunError):
    """Reading, writing or listing storage failed."""


class StorageAuthenticationError(StorageError):
    """The storage refused the credentials: a wrong key, or a SAS token that expired."""


class SecretError(RunError):
    """A secret could not be resolved from its backend."""


class MissingSecretError(SecretError):
    """The secret backend was read and has no secret of that name."""


class RemoteError(RunError):
    """A remote service refused a request or could not be reached."""


class WorkflowFailedError(RunError):
    """A workflow ended in the Failed or Error phase."""


class RunInterruptedError(RunError):
    """Ctrl-C (SIGINT) stopped the run this command was running: it is recorded stopped and can
    be resumed; the command exits 130, as a shell reports an interrupted command."""

    exit_code = 130

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"stopped; resume with `etl workflow retry {name}`")


class TaskError(RunError):
    """A task inside a workflow failed."""
