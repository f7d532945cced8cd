"""YAML documents that remember where every value came from.

:func:`load_located_yaml` parses a YAML file into plain Python data (dicts, lists, scalars) and keeps
the line and column of every key and value, so that errors found later (by pydantic, by the templating
engine) point at the right place in the file. Parsing stays within :mod:`etl.core.input_limits`:
the file's size is checked before it is read, and nesting depth, aliases and the values aliases
expand to are counted while the document is composed, before any of it is built.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from etl.core.errors import ConfigError, SourceLocation
from etl.core.input_limits import (
    MAX_ALIASES,
    MAX_NESTING_DEPTH,
    MAX_VALUES,
    TOO_DEEP,
    TOO_MANY_ALIASES,
    TOO_MANY_VALUES,
    check_text_size,
    read_bounded_text,
)

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

    @property
    def empty(self) -> bool:
        """Whether the file holds no YAML document (nothing, or only comments); ``data`` is ``{}``."""
        return () not in self.values

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
    """Read and parse ``path``; a missing, over-size or bad YAML file is a located ConfigError."""
    return parse_located_yaml(read_bounded_text(path), path)


def parse_located_yaml(text: str, path: Path) -> LocatedDocument:
    """Parse YAML ``text`` (read from ``path``) keeping positions, within the input limits."""
    check_text_size(text, path)
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        doc = LocatedDocument(path=path, data={})
        if node is not None:
            doc.data = _build(node, (), doc, loader)
        return doc
    except _PastLimit as exc:
        raise ConfigError(
            exc.problem or "", location=_mark_location(path, exc.problem_mark)
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"invalid YAML: {problem}", location=_mark_location(path, mark)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", location=SourceLocation(path)) from None
    finally:
        loader.dispose()


class _PastLimit(yaml.MarkedYAMLError):
    """The document goes past one of the input limits at ``problem_mark``."""

    def __init__(self, problem: str, mark: yaml.Mark) -> None:
        super().__init__(problem=problem, problem_mark=mark)


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, scanning and composing within the nesting, alias and value limits.

    Every composed node's value count (itself plus everything under it, aliases expanded) is
    summed as it completes, so an alias bomb is refused when its count passes the limit, long
    before anything is built.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0
        self._aliases = 0
        self._values: dict[int, int] = {}  # id(node) -> values it holds, aliases expanded

    def fetch_flow_collection_start(self, TokenClass: type[yaml.Token]) -> None:  # noqa: N803
        # The scanner looks ahead over every open ``[``/``{`` (its possible simple keys): refused
        # here, a deep flow nesting costs nothing.
        if self.flow_level >= MAX_NESTING_DEPTH:
            raise _PastLimit(TOO_DEEP, self.get_mark())
        super().fetch_flow_collection_start(TokenClass)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        is_alias = self.check_event(yaml.AliasEvent)
        event = self.current_event  # the event check_event peeked at
        if is_alias:
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _PastLimit(TOO_MANY_ALIASES, event.start_mark)
            node = super().compose_node(parent, index)
            if id(node) not in self._values:
                raise _PastLimit(
                    f"alias *{event.anchor} is inside the value it names", event.start_mark
                )
            return node
        nests = not isinstance(event, yaml.ScalarEvent)  # a list or a mapping
        self._depth += nests
        if self._depth > MAX_NESTING_DEPTH:
            raise _PastLimit(TOO_DEEP, event.start_mark)
        node = super().compose_node(parent, index)
        self._depth -= nests
        if node is not None:
            values = 1 + sum(self._values[id(child)] for child in _children(node))
            if values > MAX_VALUES:
                raise _PastLimit(TOO_MANY_VALUES, node.start_mark)
            self._values[id(node)] = values
        return node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _mark_location(path: Path, mark: yaml.Mark | None) -> SourceLocation:
    return SourceLocation(path, mark.line + 1, mark.column + 1) if mark else SourceLocation(path)


def _where(doc: LocatedDocument, node: yaml.Node) -> SourceLocation:
    return SourceLocation(doc.path, node.start_mark.line + 1, node.start_mark.column + 1)


def _build(node: yaml.Node, at: FieldPath, doc: LocatedDocument, loader: yaml.SafeLoader) -> Any:
    doc.values[at] = _where(doc, node)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged = _build(value_node, (), LocatedDocument(doc.path, None), loader)
                sources = merged if isinstance(merged, list) else [merged]
                for source in sources:
                    if isinstance(source, dict):
                        for name, value in source.items():
                            out.setdefault(name, value)
                continue
            key = _scalar(key_node, doc, loader)
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
            out[name] = _build(value_node, (*at, name), doc, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*at, i), doc, loader) for i, item in enumerate(node.value)]
    return _scalar(node, doc, loader)


def _scalar(node: yaml.Node, doc: LocatedDocument, loader: yaml.SafeLoader) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return _build(node, (), LocatedDocument(doc.path, None), loader)
    try:
        return loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise ConfigError(
            f"invalid YAML value: {exc.problem}", location=_where(doc, node)
        ) from None
