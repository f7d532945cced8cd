"""Parsing ``$<< ... >>`` templates: split a string into literal text and expressions.

The expression language is deliberately tiny and parsed by hand, never evaluated as Python:

    args.NAME                 secrets.NAME            env.NAME
    profile.SECTION.FIELD     local.path(./relative/path)

Names may contain hyphens (``secrets.pgstac-dsn``); ``$$<<`` writes a literal ``$<<``. Markers
that look like a typo of ``$<< ... >>`` are errors (:func:`check_markers`), never literal text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "CLOSE",
    "ESCAPE",
    "NAMESPACES",
    "OPEN",
    "Expression",
    "ExpressionError",
    "check_markers",
    "parse_expression",
    "split_template",
]

OPEN = "$<<"
CLOSE = ">>"
ESCAPE = "$$<<"
PCTASKS_OPEN = "${{"
HALF_OPEN = "$<"  # a typo of OPEN
NAMESPACES = ("args", "secrets", "env", "profile", "local")

_NAME = r"[A-Za-z0-9_][A-Za-z0-9_-]*"
_EXPRESSION = re.compile(
    rf"(?P<namespace>[A-Za-z_][A-Za-z0-9_]*)(?P<names>(?:\.{_NAME})*)(?:\((?P<argument>[^()]*)\))?"
)
# Text that reads like an expression, at the end of literal text: a ``>>`` after it is stray.
_EXPRESSION_TAIL = re.compile(
    rf"(?<![A-Za-z0-9_])(?P<expression>(?:{'|'.join(NAMESPACES)})(?:\.{_NAME})+(?:\([^()]*\))?)\s*$"
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
        ExpressionError: A marker is malformed (see :func:`check_markers`), or an expression is
            not in the expression language.
    """
    return [
        parse_expression(piece) if is_expression else piece for is_expression, piece in _scan(text)
    ]


def check_markers(text: str) -> None:
    """Check the template markers of ``text`` without reading its expressions.

    Refused: ``$<`` that does not start ``$<<``, a ``$<<`` without its ``>>``, a stray ``>>``
    closing an expression that no ``$<<`` opened (``<< args.x >>``), and PCTasks' ``${{ ... }}``.

    Raises:
        ExpressionError: At the first malformed marker.
    """
    for _ in _scan(text):
        pass


def _scan(text: str) -> Iterator[tuple[bool, str]]:
    """``(is_expression, text)`` pieces of ``text``: literal text (escapes applied) and the insides
    of ``$<< ... >>``; raises :class:`ExpressionError` at the first malformed marker."""
    literal: list[str] = []
    position = 0
    # Where the literal text after the last expression starts; None after a ``$$<<`` escape, until
    # the ``>>`` that closes the escaped text.
    plain: int | None = 0
    while position < len(text):
        if text.startswith(ESCAPE, position):
            literal.append(OPEN)
            position += len(ESCAPE)
            plain = None
        elif text.startswith(OPEN, position):
            end = _closing(text, position)
            if literal:
                yield False, "".join(literal)
                literal = []
            yield True, text[position + len(OPEN) : end]
            position = plain = end + len(CLOSE)
        else:
            _check_literal(text, position, plain)
            if plain is None and text.startswith(CLOSE, position):
                plain = position + len(CLOSE)
            literal.append(text[position])
            position += 1
    if literal:
        yield False, "".join(literal)


def _closing(text: str, start: int) -> int:
    """Where the ``>>`` of the ``$<<`` at ``start`` is."""
    end = text.find(CLOSE, start + len(OPEN))
    if end < 0 or OPEN in text[start + len(OPEN) : end]:
        raise ExpressionError(
            f"unclosed {OPEN!r}: end the expression with {CLOSE!r}, or write {ESCAPE!r} "
            f"for a literal {OPEN!r}"
        )
    return end


def _check_literal(text: str, position: int, plain: int | None) -> None:
    """Refuse a malformed marker at ``position`` of literal text that started at ``plain``."""
    if text.startswith(PCTASKS_OPEN, position):
        raise ExpressionError(
            f"PCTasks template syntax '{PCTASKS_OPEN} ... }}}}': etl writes expressions as "
            f"'{OPEN} ... {CLOSE}'"
        )
    if text.startswith(HALF_OPEN, position):
        end = text.find(CLOSE, position)
        if end < 0:
            raise ExpressionError(
                f"{HALF_OPEN!r} is not a template marker: write expressions as '{OPEN} ... {CLOSE}'"
            )
        written = text[position : end + len(CLOSE)]
        raise ExpressionError(
            f"{written!r} is not a template expression: write "
            f"'{OPEN} {text[position + len(HALF_OPEN) : end].strip()} {CLOSE}'"
        )
    closes = plain is not None and text.startswith(CLOSE, position)
    stray = _EXPRESSION_TAIL.search(text, plain or 0, position) if closes else None
    if stray is not None:
        raise ExpressionError(
            f"stray {CLOSE!r} after {stray['expression']!r}, which no {OPEN!r} opens: write "
            f"'{OPEN} {stray['expression']} {CLOSE}'"
        )


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
