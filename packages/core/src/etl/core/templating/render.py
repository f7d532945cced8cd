"""Rendering ``$<< ... >>`` expressions in a parsed YAML document.

Substitution happens in scalar *string values* after YAML parsing, so a value can never inject keys
or structure. Mapping keys and non-string scalars are left as they are.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from etl.core.errors import TemplateError
from etl.core.located_yaml import FieldPath, LocatedDocument, format_field_path
from etl.core.profiles.model import Profile, is_secret_field
from etl.core.templating.expressions import (
    NAMESPACES,
    Expression,
    ExpressionError,
    check_markers,
    split_template,
)
from etl.core.templating.secret_refs import secret_ref

__all__ = ["TemplateContext", "check_document_markers", "render_document", "render_string"]


@dataclass(frozen=True)
class TemplateContext:
    """What expressions may read.

    Attributes:
        args: Argument values given with ``-a KEY=VALUE`` (and defaults filled in by the loader).
        declared_args: The names the dataset declares; any other ``args.NAME`` is an error.
        base_dir: The dataset file's folder; ``local.path(...)`` is relative to it.
        env: The environment ``env.NAME`` reads.
        profile: The active profile ``profile.SECTION.FIELD`` reads (never its secret fields).
    """

    args: Mapping[str, str]
    declared_args: Collection[str]
    base_dir: Path
    env: Mapping[str, str]
    profile: Profile


def render_document(doc: LocatedDocument, context: TemplateContext) -> Any:
    """A copy of ``doc.data`` with every ``$<< ... >>`` in string values substituted.

    Raises:
        TemplateError: ``PATH:LINE:COL: field.path: message`` for the first bad expression.
    """
    return _render_node(doc.data, (), doc, context)


def check_document_markers(doc: LocatedDocument) -> None:
    """Check the template markers of every string value of ``doc``, before anything is rendered
    (:func:`~etl.core.templating.expressions.check_markers`: ``$<`` typos, an unclosed ``$<<``, a
    stray ``>>``, PCTasks' ``${{ ... }}``). Mapping keys are never templated, so never checked.

    Raises:
        TemplateError: ``PATH:LINE:COL: field.path: message`` for the first malformed marker.
    """
    for at, text in _strings(doc.data, ()):
        try:
            check_markers(text)
        except ExpressionError as exc:
            raise _located(exc, at, doc) from None


def render_string(text: str, context: TemplateContext) -> Any:
    """Substitute the expressions in one string.

    A string that is exactly one expression takes the expression's value as it is (an argument
    ``007`` stays the string ``"007"``, ``profile.workflow.max_pods`` stays an int); otherwise the
    values are joined into a new string.

    Raises:
        ExpressionError: An expression is malformed or cannot be evaluated (no location).
    """
    parts = split_template(text)
    if len(parts) == 1 and isinstance(parts[0], Expression):
        return _evaluate(parts[0], context)
    return "".join(
        part if isinstance(part, str) else _as_text(_evaluate(part, context)) for part in parts
    )


def _render_node(value: Any, at: FieldPath, doc: LocatedDocument, context: TemplateContext) -> Any:
    if isinstance(value, dict):
        return {key: _render_node(item, (*at, key), doc, context) for key, item in value.items()}
    if isinstance(value, list):
        return [_render_node(item, (*at, index), doc, context) for index, item in enumerate(value)]
    if isinstance(value, str) and "$<<" in value:
        try:
            return render_string(value, context)
        except ExpressionError as exc:
            raise _located(exc, at, doc) from None
    return value


def _strings(value: Any, at: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*at, index))
    elif isinstance(value, str):
        yield at, value


def _located(exc: ExpressionError, at: FieldPath, doc: LocatedDocument) -> TemplateError:
    return TemplateError(str(exc), location=doc.locate(at), field=format_field_path(at) or None)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _evaluate(expression: Expression, context: TemplateContext) -> Any:
    namespace = expression.namespace
    if namespace not in NAMESPACES:
        raise ExpressionError(
            f"$<< {expression.text} >>: unknown namespace {namespace!r}"
            f"{_suggest(namespace, NAMESPACES)}; use args, secrets, env, profile or local.path(...)"
        )
    if namespace == "local":
        return _local(expression, context)
    if expression.argument is not None:
        raise ExpressionError(f"$<< {expression.text} >>: {namespace}.* is not a function")
    if not expression.names:
        raise ExpressionError(f"$<< {expression.text} >>: name a value, e.g. {namespace}.NAME")
    if namespace == "secrets":
        return secret_ref(".".join(expression.names))
    if namespace == "profile":
        return _profile_value(expression, context.profile)
    if len(expression.names) != 1:
        raise ExpressionError(
            f"$<< {expression.text} >>: {namespace}.NAME takes one name, not a dotted path"
        )
    name = expression.names[0]
    if namespace == "args":
        return _argument(name, context)
    if name not in context.env:
        raise ExpressionError(f"$<< {expression.text} >>: environment variable {name} is not set")
    return context.env[name]


def _argument(name: str, context: TemplateContext) -> str:
    if name not in context.declared_args:
        declared = ", ".join(sorted(context.declared_args)) or "none"
        raise ExpressionError(
            f"$<< args.{name} >>: undeclared argument {name!r}{_suggest(name, context.declared_args)}"
            f"; the dataset declares: {declared}"
        )
    if name not in context.args:
        raise ExpressionError(
            f"$<< args.{name} >>: argument {name!r} is not given; pass -a {name}=VALUE"
        )
    return context.args[name]


def _local(expression: Expression, context: TemplateContext) -> str:
    if expression.names != ("path",):
        raise ExpressionError(
            f"$<< {expression.text} >>: unknown function; local has only local.path(./relative/path)"
        )
    if expression.argument is None:
        raise ExpressionError(
            f"$<< {expression.text} >>: local.path is a function: write local.path(./relative/path)"
        )
    relative = expression.argument.strip()
    if len(relative) >= 2 and relative[0] == relative[-1] and relative[0] in "'\"":
        relative = relative[1:-1]
    if not relative:
        raise ExpressionError(f"$<< {expression.text} >>: local.path needs a path")
    path = (context.base_dir / relative).resolve()
    if not path.exists():
        raise ExpressionError(
            f"$<< {expression.text} >>: {path} does not exist (paths are relative to the "
            "dataset file's folder)"
        )
    return str(path)


def _profile_value(expression: Expression, profile: Profile) -> Any:
    dotted = ".".join(expression.names)
    if is_secret_field(dotted):
        raise ExpressionError(
            f"$<< {expression.text} >>: profile.{dotted} is a secret; refer to it with "
            "$<< secrets.NAME >> instead"
        )
    value: Any = profile.model_dump(mode="json")
    walked: list[str] = []
    for name in expression.names:
        if not isinstance(value, dict) or name not in value:
            options = sorted(value) if isinstance(value, dict) else []
            where = "profile." + ".".join(walked) if walked else "profile"
            raise ExpressionError(
                f"$<< {expression.text} >>: {where} has no {name!r}{_suggest(name, options)}"
            )
        value = value[name]
        walked.append(name)
    if isinstance(value, (dict, list)):
        raise ExpressionError(
            f"$<< {expression.text} >>: profile.{dotted} is a section; name one of its fields"
        )
    if value is None:
        raise ExpressionError(
            f"$<< {expression.text} >>: profile.{dotted} is not set in profile {profile.name!r}"
        )
    return value


def _suggest(name: str, options: Collection[str]) -> str:
    close = get_close_matches(name, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
