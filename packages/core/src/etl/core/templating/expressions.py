"""Parsing ``$<< ... >>`` templates: split a string into literal text and expressions.

The expression language is deliberately tiny and parsed by hand, never evaluated as Python:

    args.NAME                 secrets.NAME            env.NAME
    profile.SECTION.FIELD     local.path(./relative/path)

Names may contain hyphens (``secrets.pgstac-dsn``); ``$$<<`` writes a literal ``$<<``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ESCAPE", "OPEN", "Expression", "ExpressionError", "parse_expression", "split_template"]

OPEN = "$<<"
CLOSE = ">>"
ESCAPE = "$$<<"

_NAME = r"[A-Za-z0-9_][A-Za-z0-9_-]*"
_EXPRESSION = re.compile(
    rf"(?P<namespace>[A-Za-z_][A-Za-z0-9_]*)(?P<names>(?:\.{_NAME})*)(?:\((?P<argument>[^()]*)\))?"
)
# A name that starts with ``__`` (``__class__``, ``__globals__``) is an attempt to walk into Python.
_DUNDER = re.compile(r"(?<![A-Za-z0-9_-])__")


class ExpressionError(ValueError):
    """An expression is malformed or cannot be evaluated; the caller adds the location."""


@dataclass(frozen=True)
class Expression:
    """One parsed ``$<< ... >>`` expression.

    Attributes:
        text: The expression as written, without the delimiters, stripped.
        namespace: The first name: ``args``, ``secrets``, ``env``, ``profile`` or ``local``.
        names: The dotted names after the namespace (``("pgstac-dsn",)``).
        argument: The text between parentheses for a call (``local.path(./x)``), else ``None``.
    """

    text: str
    namespace: str
    names: tuple[str, ...]
    argument: str | None = None


def split_template(text: str) -> list[str | Expression]:
    """Split ``text`` into literal strings and parsed expressions, in order.

    Raises:
        ExpressionError: An expression is unclosed or not in the expression language.
    """
    parts: list[str | Expression] = []
    literal: list[str] = []
    position = 0
    while position < len(text):
        if text.startswith(ESCAPE, position):
            literal.append(OPEN)
            position += len(ESCAPE)
            continue
        if not text.startswith(OPEN, position):
            literal.append(text[position])
            position += 1
            continue
        end = text.find(CLOSE, position + len(OPEN))
        if end < 0:
            raise ExpressionError(
                f"unclosed {OPEN!r}: end the expression with {CLOSE!r}, or write {ESCAPE!r} "
                f"for a literal {OPEN!r}"
            )
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(parse_expression(text[position + len(OPEN) : end]))
        position = end + len(CLOSE)
    if literal:
        parts.append("".join(literal))
    return parts


def parse_expression(source: str) -> Expression:
    """Parse the inside of one ``$<< ... >>``.

    Raises:
        ExpressionError: ``source`` is empty, reaches for Python internals, or is not
            ``NAMESPACE.NAME...`` or ``local.path(...)``.
    """
    text = source.strip()
    if not text:
        raise ExpressionError(f"empty expression {OPEN} {CLOSE}")
    if _DUNDER.search(text):
        raise ExpressionError(
            f"{OPEN} {text} {CLOSE} is refused: templates cannot reach Python internals "
            "(names starting with '__')"
        )
    match = _EXPRESSION.fullmatch(text)
    if match is None:
        raise ExpressionError(
            f"cannot read {OPEN} {text} {CLOSE}: write NAMESPACE.NAME (args, secrets, env, profile) "
            "or local.path(./relative/path)"
        )
    names = tuple(name for name in match["names"].split(".") if name)
    return Expression(
        text=text, namespace=match["namespace"], names=names, argument=match["argument"]
    )
