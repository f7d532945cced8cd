"""Full STAC validation of items: the core item schema and every extension schema an item names.

A collection's ``stac_validation`` turns it on (``full``: every item; ``sample``: a share of them,
chosen by a hash of the item id, so the same items are checked on every try and pod). A failure is
an :class:`StacValidationError`, one line naming the item, the schema URI, the JSON path and the
first error (a ``not`` error only when nothing else is wrong); the asset fails like any other.
Schemas come from :mod:`etl.task.stac_schemas` only. A compiled validator decides (a few
microseconds an item); only an item it refuses is validated again by ``jsonschema``, whose best
error is the one reported (the compiled one's first error when the two disagree).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from etl.core.pod_contract import StacValidationMode
from etl.dataset.model import StacValidation
from etl.task.item_checks import ItemCheckError
from etl.task.stac_schemas import (
    SchemaNotCachedError,
    SchemaUnusableError,
    StacSchemas,
    core_item_schema,
)

if TYPE_CHECKING:
    import jsonschema_rs
    from jsonschema.exceptions import ValidationError

__all__ = ["ItemValidation", "StacValidationError", "item_validation", "schema_uris"]

_MESSAGE_CHARS = 200
"""A validation message is cut to this many characters (some quote the whole item)."""


class StacValidationError(ItemCheckError):
    """An item is not valid against a STAC schema, or a schema it needs is not cached."""


def schema_uris(item: Mapping[str, Any]) -> list[str]:
    """The core item schema of the item's ``stac_version``, then its ``stac_extensions``."""
    extensions = item.get("stac_extensions")
    named = (
        [uri for uri in extensions if isinstance(uri, str)] if isinstance(extensions, list) else []
    )
    return [core_item_schema(str(item.get("stac_version", ""))), *named]


@dataclass(frozen=True)
class ItemValidation:
    """Validates a share ``rate`` (0 < rate <= 1) of the items it is given."""

    rate: float
    schemas: StacSchemas = field(default_factory=StacSchemas)

    def sampled(self, item_id: str) -> bool:
        """Whether the item ``item_id`` is one of the share validated (the same on every run)."""
        return self.rate >= 1.0 or zlib.crc32(item_id.encode()) < self.rate * 2**32

    def check(self, item: Mapping[str, Any], item_id: str) -> None:
        """Validate ``item`` if it is sampled.

        Raises:
            StacValidationError: It is not valid, or a schema it needs is not cached.
        """
        if self.sampled(item_id):
            for uri in schema_uris(item):
                self._validate(item, item_id, uri)

    def _validate(self, item: Mapping[str, Any], item_id: str, uri: str) -> None:
        where = f"item {item_id!r}"
        try:
            validator = self.schemas.validator(uri)
        except (SchemaNotCachedError, SchemaUnusableError) as exc:
            raise StacValidationError(f"{where}: {exc}") from None
        if not validator.is_valid(item):
            path, message = self._explain(item, uri, validator)
            if len(message) > _MESSAGE_CHARS:
                message = message[: _MESSAGE_CHARS - 1] + "…"
            raise StacValidationError(f"{where}: {uri}: {path}: {message}")

    def _explain(
        self, item: Mapping[str, Any], uri: str, validator: jsonschema_rs.Validator
    ) -> tuple[str, str]:
        """The JSON path and first line of the best error of an item the compiled validator
        refused."""
        from jsonschema.exceptions import best_match

        errors = list(self.schemas.explainer(uri).iter_errors(item))
        if errors:
            error = best_match([_first_telling(errors)])
            return error.json_path, _first_line(error.message)
        compiled = next(iter(validator.iter_errors(item)))
        path = "$" + "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in compiled.instance_path
        )
        return path, _first_line(compiled.message)


def _first_line(message: str) -> str:
    return message.splitlines()[0] if message else "invalid"


def _first_telling(errors: list[ValidationError]) -> ValidationError:
    """The first error, passing over ``not`` ones ("... should not be valid under {}") when
    another says more."""
    return next((e for e in errors if e.validator != "not"), errors[0])


def item_validation(
    config: StacValidation, mode: StacValidationMode | None = None
) -> ItemValidation | None:
    """The validation a collection asks for (``mode`` overrides its ``mode``); ``None`` if off."""
    chosen = mode or config.mode
    if chosen is StacValidationMode.OFF:
        return None
    return ItemValidation(1.0 if chosen is StacValidationMode.FULL else config.sample_rate)
