"""``etl-task``: the task runtime's entry point inside each workflow pod.

Each subcommand lives in its own module exposing ``register(subparsers)`` and ``run(args) -> int``;
adding one is one line in :data:`SUBCOMMAND_MODULES`. A task imports its own subcommand's module
alone (and what that imports), not every subcommand's.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import Protocol, cast

from etl.core.env_names import PROFILE_ENV
from etl.core.errors import EtlError
from etl.core.log_setup import configure_logging
from etl.core.pod_contract import (
    CONSUME_EVENTS,
    CREATE_CHUNKS,
    ETL_TASK,
    EXIT_PERMANENT,
    EXIT_TRANSIENT,
    FINISH_COLLECTION,
    INGEST_COLLECTION,
    INGEST_ITEMS,
    MARK_SUCCESS,
    PGSTAC_DSN_ENV,
    PROCESS_CHUNKS,
    RESOLVE_ENV,
    RUN_OUTCOME,
    SECRET_ENV_PREFIX,
    Subcommand,
)
from etl.task.pod_log import kept_log
from etl.task.secret_env import check_secret_env

__all__ = ["SUBCOMMAND_MODULES", "build_parser", "main", "warm_up"]

SUBCOMMAND_MODULES: dict[str, tuple[Subcommand, ...]] = {
    "etl.task.create_chunks": (CREATE_CHUNKS,),
    "etl.task.process_chunks": (PROCESS_CHUNKS,),
    "etl.task.finish_collection": (FINISH_COLLECTION,),
    "etl.task.ingest_commands": (INGEST_COLLECTION, INGEST_ITEMS, MARK_SUCCESS),
    "etl.task.consume_events": (CONSUME_EVENTS,),
    "etl.task.run_outcome": (RUN_OUTCOME,),
}
"""Modules of the subcommands, in the order ``--help`` lists them, with the subcommands each
registers: a task imports only its own subcommand's module (:func:`build_parser`)."""

LIBRARIES: tuple[str, ...] = (
    "etl.task.environment",
    "etl.task.ingest",
    "etl.task.last_success",
    "etl.dataset.loader",
    "etl.dataset.chunking",
    "etl.pgstac.writer",
    "pystac",
    "orjson",
    "etl.core.secrets",
    "etl.core.storage.blob",
)
"""What the subcommands import when they run (not at module level); :func:`warm_up` loads it."""

WARMED_LAST: tuple[str, ...] = ("etl.task.consume_events",)
"""Subcommand modules :func:`warm_up` imports after :data:`LIBRARIES`: the stream's consumer (the
Azure queue SDK), which batch runs never start."""

_DESCRIPTION = f"""\
The task runtime of etl workflows: the command every workflow pod runs.

Internal: its arguments are written by the workflow compiler (`etl dataset render` shows them in
each template's `args`), not by users, and may change between etl versions. It is runnable by
hand for debugging: copy a step's arguments from the rendered manifest and run it on your machine
with the same profile ({PROFILE_ENV} / -p of etl) and environment ({PGSTAC_DSN_ENV},
{SECRET_ENV_PREFIX}*), e.g.

  etl-task create-chunks --dataset ./dataset.yaml --collection my-coll --run-id debug-1 --limit 10

Exit codes: 0 success, 1 the task failed and may succeed if retried (a timeout, a dropped
connection, a busy service), 2 the task failed and no retry can help (invalid arguments or dataset,
not found, forbidden, authentication): the workflow retries only exit code 1."""


class _Subcommand(Protocol):
    def register(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of ``etl-task``: with only ``command``'s subcommand registered when it is one
    (a task imports its own module alone), with every subcommand otherwise (``--help``, errors)."""
    parser = argparse.ArgumentParser(
        prog=ETL_TASK,
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show a traceback when a task fails"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    owners = [
        name
        for name, subcommands in SUBCOMMAND_MODULES.items()
        if any(subcommand.name == command for subcommand in subcommands)
    ]
    for name in owners or SUBCOMMAND_MODULES:
        module = cast(_Subcommand, importlib.import_module(name))
        module.register(subparsers)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names: its first word that is not an option."""
    return next((word for word in argv if not word.startswith("-")), None)


FULL_COLLECTION_EVERY = 1_000
"""Young-generation sweeps between two full garbage collections (CPython's default is 10)."""


def _space_out_full_collections() -> None:
    """Make CPython's full garbage collections rare for the life of this process.

    A task makes and drops millions of short-lived objects. By default every tenth sweep of the
    young generations is a full collection, which walks every live object (the items waiting to
    load, everything imported): with a trivial ``create_item`` that was a quarter of the CPU of a
    process-chunks pod. The young sweeps still collect short-lived cycles such as pystac's
    Item <-> Asset links.
    """
    import gc

    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


def warm_up() -> Iterator[str]:
    """Import every subcommand and the libraries they use, for a process that forks per task,
    one module at a time (each step yields what it imported).

    The local runner's warm server (``etl.runner.warm_server``) runs it once, so that each
    ``etl-task`` it forks starts with everything imported, pystac's extension hooks found; it
    forks the tasks asked for meanwhile between two steps, with what is imported so far (a task
    imports the rest of what it uses itself): a run's first task, ``create-chunks``, need not
    wait for the libraries its later tasks use.
    """
    first = [name for name in SUBCOMMAND_MODULES if name not in WARMED_LAST]
    for name in (*first, *LIBRARIES, *WARMED_LAST):
        importlib.import_module(name)
        yield name
    from etl.core.profiles.model import Profile
    from etl.dataset.model import DatasetConfig

    for model in (DatasetConfig, Profile):  # every task validates one of each: their validators
        model.model_rebuild(force=True)  # are built on first use (defer_build), here once
        yield model.__name__
    from etl.task.item_maker import warm_up_pystac

    warm_up_pystac()
    yield "pystac's extension hooks"


def resolve_environment() -> None:
    """Replace the ``$<< secrets.NAME >>`` references of the variables ``ETL_RESOLVE_ENV`` names.

    The compiler lists there the dataset ``environment`` variables it could not wire to a secret
    itself (Key Vault, or text around a reference); this runs before any user code is imported.
    """
    import os

    names = [n for n in os.environ.get(RESOLVE_ENV, "").split(",") if n]
    if not names:
        return
    from etl.task.environment import TaskEnvironment

    environment = TaskEnvironment()
    for name in names:
        if name in os.environ:
            os.environ[name] = environment.resolve(os.environ[name])


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the subcommand, and map errors to exit codes (one line on stderr)."""
    _space_out_full_collections()
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_in(arguments))
    args = parser.parse_args(arguments)
    subcommand = cast(_Subcommand, args.subcommand)
    with kept_log(args):
        configure_logging(verbose=args.verbose)
        try:
            check_secret_env(os.environ)
            resolve_environment()
            return subcommand.run(args)
        except EtlError as exc:
            if args.verbose:
                traceback.print_exc()
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_TRANSIENT if exc.transient else EXIT_PERMANENT
        except KeyboardInterrupt:
            print("error: interrupted", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
