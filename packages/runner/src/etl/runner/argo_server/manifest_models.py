"""Manifests as Hera's models, and back: what the Argo Server client sends and reads.

Manifests are parsed into a fresh Hera model on each call, from a deep copy, so the caller's dict
is never changed (Hera's ``Workflow.create()`` renames the object it is given). A field Hera's
models do not know is refused (:class:`ManifestFieldError`), as ``argo submit`` refuses it: the
models would drop it silently, and the server would run a workflow without it (a hand-written
``synchronization.semaphore``, the singular Argo v4 no longer has, would be sent as
``synchronization: {}``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from etl.core.errors import InputError
from etl.core.located_yaml import FieldPath, format_field_path

__all__ = ["ManifestFieldError", "manifest_model", "model_dict"]


class ManifestFieldError(InputError):
    """A field of a manifest that Argo's models refuse or do not know.

    Attributes:
        field_path: where it is (``("spec", "templates", 0, "name")``), for a caller holding the
            file to locate it.
        reason: what is wrong with it.
    """

    def __init__(self, what: str, field_path: FieldPath, reason: str) -> None:
        self.field_path = field_path
        self.reason = reason
        super().__init__(f"not a valid {what} manifest: {format_field_path(field_path)}: {reason}")


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
        InputError: ``manifest`` is of another kind.
        ManifestFieldError: it is not a valid one: the first error, or a field the models do not
            know.
    """
    from hera.workflows import models
    from pydantic import ValidationError

    model = getattr(models, kind)
    what = "Argo Workflow" if kind == "Workflow" else f"Argo {kind}"
    if manifest.get("kind", kind) != kind:
        raise InputError(f"expected an {what} manifest, got kind {manifest.get('kind')!r}")
    data = copy.deepcopy(dict(manifest))
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        if not all(error["type"] == "string_type" and _is_number(error) for error in errors):
            raise ManifestFieldError(what, errors[0]["loc"], errors[0]["msg"]) from None
        for error in errors:
            _set_at(data, error["loc"], str(error["input"]))
        try:
            parsed = model.model_validate(data)
        except ValidationError as again:
            first = again.errors()[0]
            raise ManifestFieldError(what, first["loc"], first["msg"]) from None
    unknown = _unknown_field(data, parsed.model_dump(by_alias=True, mode="json"), ())
    if unknown is not None:
        raise ManifestFieldError(what, unknown, f"unknown field: not in the {kind} schema")
    return parsed


def _unknown_field(data: Any, known: Any, path: FieldPath) -> FieldPath | None:
    """The first key of ``data`` that the model's full dump ``known`` (every field it knows, unset
    ones as ``None``) does not have: a field the model dropped."""
    if isinstance(data, dict) and isinstance(known, dict):
        pairs: list[tuple[str | int, Any, Any]] = []
        for key, value in data.items():
            if key not in known:
                return (*path, key)
            pairs.append((key, value, known[key]))
    elif isinstance(data, list) and isinstance(known, list):
        pairs = [(i, value, known[i]) for i, value in enumerate(data[: len(known)])]
    else:
        return None
    for key, value, dumped in pairs:
        found = _unknown_field(value, dumped, (*path, key))
        if found is not None:
            return found
    return None


def _is_number(error: Any) -> bool:
    value = error["input"]
    return isinstance(value, int | float) and not isinstance(value, bool)


def _set_at(data: Any, location: tuple[int | str, ...], value: str) -> None:
    for part in location[:-1]:
        data = data[part]
    data[location[-1]] = value
