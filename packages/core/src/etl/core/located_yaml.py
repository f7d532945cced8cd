"""YAML documents that remember where every value came from.

:func:`load_located_yaml` parses a YAML file into plain Python data (dicts, lists, scalars) and keeps
the line and column of every key and value, so that errors found later (by pydantic, by the templating
engine) point at the right place in the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from etl.core.errors import ConfigError, SourceLocation

__all__ = [
    "FieldPath",
    "LocatedDocument",
    "format_field_path",
    "load_located_yaml",
    "parse_located_yaml",
]

FieldPath = tuple[str | int, ...]


def format_field_path(path: Iterable[str | int]) -> str:
    """Render a field path as users write it: ``collections[0].asset_storage[1].uri``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class LocatedDocument:
    """Plain data parsed from YAML, with the source position of every value and mapping key."""

    path: Path
    data: Any
    values: dict[FieldPath, SourceLocation] = field(default_factory=dict)
    keys: dict[FieldPath, SourceLocation] = field(default_factory=dict)

    def locate(self, field_path: Iterable[str | int], *, key: bool = False) -> SourceLocation:
        """Where ``field_path`` is written; the nearest enclosing value when it is not in the file.

        With ``key=True``, the position of the mapping key rather than its value (for unknown keys).
        """
        parts = tuple(field_path)
        table = self.keys if key else self.values
        while parts:
            if parts in table:
                return table[parts]
            if parts in self.values:
                return self.values[parts]
            parts = parts[:-1]
        return self.values.get((), SourceLocation(self.path, 1, 1))

    def error(
        self, field_path: Iterable[str | int], message: str, *, key: bool = False
    ) -> ConfigError:
        """A :class:`ConfigError` located at ``field_path``."""
        parts = tuple(field_path)
        return ConfigError(
            message, location=self.locate(parts, key=key), field=format_field_path(parts) or None
        )


def load_located_yaml(path: Path) -> LocatedDocument:
    """Read and parse ``path``; a missing file or bad YAML is a located :class:`ConfigError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such file", location=SourceLocation(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read file: {exc}", location=SourceLocation(path)) from None
    return parse_located_yaml(text, path)


def parse_located_yaml(text: str, path: Path) -> LocatedDocument:
    """Parse YAML ``text`` (read from ``path``) keeping positions."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = (
            SourceLocation(path, mark.line + 1, mark.column + 1) if mark else SourceLocation(path)
        )
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"invalid YAML: {problem}", location=where) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", location=SourceLocation(path)) from None
    doc = LocatedDocument(path=path, data=None)
    if node is None:
        doc.data = {}
        return doc
    doc.data = _build(node, (), doc)
    return doc


def _where(doc: LocatedDocument, node: yaml.Node) -> SourceLocation:
    return SourceLocation(doc.path, node.start_mark.line + 1, node.start_mark.column + 1)


def _build(node: yaml.Node, at: FieldPath, doc: LocatedDocument) -> Any:
    doc.values[at] = _where(doc, node)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged = _build(value_node, (), LocatedDocument(doc.path, None))
                sources = merged if isinstance(merged, list) else [merged]
                for source in sources:
                    if isinstance(source, dict):
                        for name, value in source.items():
                            out.setdefault(name, value)
                continue
            key = _scalar(key_node, doc)
            if isinstance(key, (dict, list)) or key is None:
                raise ConfigError(
                    "mapping keys must be plain strings", location=_where(doc, key_node)
                )
            name = str(key)
            if name in out:
                raise ConfigError(
                    f"duplicate key {name!r}",
                    location=_where(doc, key_node),
                    field=format_field_path((*at, name)),
                )
            doc.keys[(*at, name)] = _where(doc, key_node)
            out[name] = _build(value_node, (*at, name), doc)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*at, i), doc) for i, item in enumerate(node.value)]
    return _scalar(node, doc)


def _scalar(node: yaml.Node, doc: LocatedDocument) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return _build(node, (), LocatedDocument(doc.path, None))
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise ConfigError(
            f"invalid YAML value: {exc.problem}", location=_where(doc, node)
        ) from None
    finally:
        loader.dispose()
