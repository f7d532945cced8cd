"""``--remove-missing``, ``--report-missing`` and ``--max-removals`` of ``etl dataset process-items``.

They override the collections' ``missing_items`` and ``max_removals`` (docs/keeping-current.md).
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["MaxRemovalsOption", "RemoveMissingOption", "ReportMissingOption", "missing_mode"]

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
MaxRemovalsOption = Annotated[
    str | None,
    typer.Option(
        "--max-removals",
        help="Most items one run may remove, a count or a percentage of the collection's items "
        "(default: the collection's max_removals, 10%).",
        metavar="COUNT|PERCENT%",
    ),
]


def missing_mode(remove: bool, report: bool) -> str | None:
    """``remove``, ``report``, or ``None`` (each collection's ``missing_items``)."""
    if remove and report:
        raise typer.BadParameter(
            "give --remove-missing or --report-missing, not both", param_hint="--report-missing"
        )
    return "remove" if remove else "report" if report else None
