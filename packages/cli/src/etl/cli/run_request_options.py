"""The options of a run request, declared once for ``render``, ``process-items`` and ``create-chunks``.

Each option is one row of :data:`RUN_OPTIONS`: its typer declaration and the work commands that
take it. The options a pod takes are declared from their :class:`etl.core.run_options.PodOption`
(flag, help, metavar, parser) and taken by the commands whose pods take them
(:data:`etl.argo.options.POD_OPTIONS`), so the CLI adds no line for a new one. :func:`takes_run_request` adds a command's rows to its parameters (in place of its
``request`` parameter) and hands the command one :class:`etl.argo.RunRequest`, built and checked
once; ``render`` takes every row, so it can print any manifest a work command submits. A value is
parsed by its :mod:`etl.core.run_options` pair, the one ``etl-task`` reads it back with; a bad one
is an :class:`~etl.core.errors.OptionError` naming its flag (exit 2).
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer

from etl.argo.options import POD_OPTIONS, RunRequest, WorkflowCommand, commands_taking
from etl.core.errors import OptionError
from etl.core.run_options import MISSING, MissingItems, PodOption

__all__ = ["RUN_OPTIONS", "RunOption", "takes_run_request"]

F = TypeVar("F", bound=Callable[..., None])


def _parser(option: str, parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse`` for typer: a bad value is an ``OptionError`` naming ``--option``."""

    def parse_option(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise OptionError(option, str(exc)) from None

    return parse_option


def _pod_option(option: PodOption[Any]) -> Any:
    """The typer declaration of a pod option: its flag, help and metavar, parsed by its pair."""
    name = option.flag.removeprefix("--")
    return Annotated[
        Any,  # typer takes no union of types (``Since``): the parser makes the value
        typer.Option(
            option.flag,
            parser=_parser(name, option.parse),
            help=option.help,
            metavar=option.metavar,
        ),
    ]


ScheduleOption = Annotated[
    str | None,
    typer.Option(
        "--schedule",
        help="process-items only: a CronWorkflow running on this cron schedule (e.g. '0 3 * * *'); "
        "with --submit it is created, or updated, on the Argo Server.",
        metavar="CRON",
    ),
]
TimezoneOption = Annotated[
    str | None,
    typer.Option(
        "--timezone",
        help="With --schedule: the IANA time zone it is read in (e.g. Europe/Paris; default UTC).",
        metavar="ZONE",
    ),
]
RemoveMissingOption = Annotated[
    bool,
    typer.Option(
        "--remove-missing",
        help="Remove the items whose assets are no longer listed (a run listing every asset: no "
        "--since, no --limit); refused when more than --max-removals would go.",
    ),
]
ReportMissingOption = Annotated[
    bool,
    typer.Option(
        "--report-missing",
        help="Only report the items whose assets are no longer listed: the dry run of "
        "--remove-missing.",
    ),
]

_PROCESS_ITEMS = frozenset({WorkflowCommand.PROCESS_ITEMS})


@dataclass(frozen=True)
class RunOption:
    """One run option as the CLI declares it.

    Attributes:
        name: The parameter's name (the ``RunRequest`` field, but for the two missing flags).
        annotation: Its typer declaration.
        default: Its value when not given.
        commands: The work commands that take it (``render`` takes every option).
    """

    name: str
    annotation: Any
    default: Any
    commands: frozenset[WorkflowCommand]


def _pod_rows(option: PodOption[Any]) -> tuple[RunOption, ...]:
    """The CLI's rows of a pod option: its own, or for ``missing`` the two flags that set it."""
    commands = frozenset(commands_taking(option))
    if option is MISSING:
        return (
            RunOption("remove_missing", RemoveMissingOption, False, commands),
            RunOption("report_missing", ReportMissingOption, False, commands),
        )
    return (RunOption(option.attribute, _pod_option(option), None, commands),)


RUN_OPTIONS: tuple[RunOption, ...] = (
    *(row for option in POD_OPTIONS[WorkflowCommand.PROCESS_ITEMS] for row in _pod_rows(option)),
    RunOption("schedule", ScheduleOption, None, _PROCESS_ITEMS),
    RunOption("timezone", TimezoneOption, None, _PROCESS_ITEMS),
)
"""Every run option, in the order ``--help`` shows them: the pod options (each declared from its
:class:`~etl.core.run_options.PodOption`), then the CLI's own."""


def _missing(remove: bool, report: bool) -> MissingItems | None:
    """``--remove-missing`` or ``--report-missing`` (not both), or ``None``: each collection's."""
    if remove and report:
        raise typer.BadParameter(
            "give --remove-missing or --report-missing, not both", param_hint="--report-missing"
        )
    return MissingItems.REMOVE if remove else MissingItems.REPORT if report else None


def _request(
    command: WorkflowCommand, collection: list[str] | None, given: dict[str, Any]
) -> RunRequest:
    missing = _missing(given.pop("remove_missing", False), given.pop("report_missing", False))
    return RunRequest(command, tuple(collection) if collection else None, missing=missing, **given)


def takes_run_request(command: WorkflowCommand | None) -> Callable[[F], F]:
    """Give a command the run options of ``command`` (``None``: every option, and the command is
    the function's own ``command`` parameter, as ``render``'s ``--command``).

    The decorated function declares ``request: RunRequest`` where the options go in ``--help``
    and a ``collection`` parameter (``-c``); it is called with the request built from them.
    """
    rows = [row for row in RUN_OPTIONS if command is None or command in row.commands]

    def decorate(func: F) -> F:
        hints = typing.get_type_hints(func, include_extras=True)
        params: list[inspect.Parameter] = []
        for param in inspect.signature(func).parameters.values():
            if param.name == "request":
                params += [
                    inspect.Parameter(
                        row.name,
                        inspect.Parameter.KEYWORD_ONLY,
                        default=row.default,
                        annotation=row.annotation,
                    )
                    for row in rows
                ]
            else:
                params.append(param.replace(annotation=hints.get(param.name, param.annotation)))

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> None:
            given = {row.name: kwargs.pop(row.name) for row in rows}
            chosen = command or kwargs["command"]
            kwargs["request"] = _request(chosen, kwargs.get("collection"), given)
            func(*args, **kwargs)

        wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {param.name: param.annotation for param in params}
        return typing.cast(F, wrapper)

    return decorate
