"""Printing a command's result on stdout as JSON, YAML or a plain table (``-o/--output``)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Any

__all__ = [
    "ManifestOutput",
    "OutputFormat",
    "machine_format",
    "print_manifest",
    "print_outcome",
    "print_result",
    "warn",
]


class OutputFormat(StrEnum):
    """The ``-o/--output`` choices; ``json`` is the stable one for scripts."""

    JSON = "json"
    YAML = "yaml"
    TABLE = "table"


class ManifestOutput(StrEnum):
    """``-o`` of the commands that print a manifest (or, with ``--submit``, the submitted workflow)."""

    YAML = "yaml"
    JSON = "json"


def print_manifest(manifest: dict[str, Any], output: ManifestOutput) -> None:
    """Print an Argo manifest on stdout as YAML or JSON, and nothing else."""
    from etl.argo.manifest_format import manifest_text

    sys.stdout.write(manifest_text(manifest, output.value))


def print_result(data: Any, output: OutputFormat) -> None:
    """Print ``data`` (JSON-able: dicts, lists, scalars) on stdout in ``output`` format.

    A table shows a list of mappings as aligned columns, and a mapping as ``key  value`` rows with
    nested keys dotted (``argo.namespace``).
    """
    if output is OutputFormat.JSON:
        text = json.dumps(data, indent=2)
    elif output is OutputFormat.YAML:
        import yaml

        text = yaml.safe_dump(data, sort_keys=False).rstrip("\n")
    elif isinstance(data, list):
        text = _columns(data)
    elif isinstance(data, dict):
        text = _columns([{"key": k, "value": v} for k, v in _flatten(data, "")], header=False)
    else:
        text = str(data)
    sys.stdout.write(text + "\n")


def machine_format(output: OutputFormat | None) -> OutputFormat | None:
    """``output`` when it is for programs (json, yaml); ``None`` for a person's text."""
    return output if output is not None and output is not OutputFormat.TABLE else None


def print_outcome(
    message: str, data: Any, output: OutputFormat | None, *, to_stderr: bool = False
) -> None:
    """Say what a command did: ``message`` for a person (on stderr with ``to_stderr``, where it
    stays whatever the format), and, when ``-o json|yaml`` asked for it, ``data`` on stdout in
    its place."""
    machine = machine_format(output)
    if machine is None:
        print(message, file=sys.stderr if to_stderr else sys.stdout, flush=True)
        return
    if to_stderr:
        print(message, file=sys.stderr, flush=True)
    print_result(data, machine)


def _flatten(data: dict[str, Any], prefix: str) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows += _flatten(value, f"{name}.")
        else:
            rows.append((name, value))
    return rows


def _columns(rows: list[Any], *, header: bool = True) -> str:
    if not rows:
        return ""
    names = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[_cell(row.get(name)) for name in names] for row in rows]
    if header:
        cells.insert(0, [name.upper() for name in names])
    widths = [max(len(line[i]) for line in cells) for i in range(len(names))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def warn(message: str) -> None:
    """``warning: MESSAGE`` on stderr: something the user should know that did not stop the command."""
    print(f"warning: {message}", file=sys.stderr, flush=True)
