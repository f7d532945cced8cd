"""Manifests as Hera's models, and back: what the Argo Server client sends and reads.

Manifests are parsed into a fresh Hera model on each call, from a deep copy, so the caller's dict
is never changed (Hera's ``Workflow.create()`` renames the object it is given).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from etl.core.errors import InputError

__all__ = ["manifest_model", "model_dict"]


def model_dict(model: Any) -> dict[str, Any]:
    """A Hera model as the JSON the server speaks (aliases, no ``None`` fields)."""
    data: dict[str, Any] = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return data


def manifest_model(manifest: Mapping[str, Any], kind: str) -> Any:
    """A new Hera model (``Workflow`` or ``CronWorkflow``) of a deep copy of ``manifest``.

    Hera's models type Kubernetes quantities (``cpu: 1``) as strings only, while Kubernetes reads
    a JSON number there just as well; numbers where a string is wanted are given as their decimal
    text, which Kubernetes reads the same way.

    Raises:
        InputError: ``manifest`` is of another kind, or not a valid one (the first error, located).
    """
    from hera.workflows import models
    from pydantic import ValidationError

    model = getattr(models, kind)
    what = "Argo Workflow" if kind == "Workflow" else f"Argo {kind}"
    if manifest.get("kind", kind) != kind:
        raise InputError(f"expected an {what} manifest, got kind {manifest.get('kind')!r}")
    data = copy.deepcopy(dict(manifest))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
    if all(error["type"] == "string_type" and _is_number(error) for error in errors):
        for error in errors:
            _set_at(data, error["loc"], str(error["input"]))
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors()
    where = ".".join(str(part) for part in errors[0]["loc"])
    raise InputError(f"not a valid {what} manifest: {where}: {errors[0]['msg']}")


def _is_number(error: Any) -> bool:
    value = error["input"]
    return isinstance(value, int | float) and not isinstance(value, bool)


def _set_at(data: Any, location: tuple[int | str, ...], value: str) -> None:
    for part in location[:-1]:
        data = data[part]
    data[location[-1]] = value
