"""``$<< ... >>`` templating of parsed YAML documents (see ``docs/templating.md``).

:func:`render_document` substitutes expressions in string values; secrets stay references
(``$<< secrets.NAME >>``) that :func:`resolve_secret_refs` replaces at run time.
"""

from etl.core.templating.expressions import ExpressionError
from etl.core.templating.render import TemplateContext, render_document, render_string
from etl.core.templating.secret_refs import (
    SecretLookup,
    find_secret_refs,
    resolve_secret_refs,
    secret_ref,
)

__all__ = [
    "ExpressionError",
    "SecretLookup",
    "TemplateContext",
    "find_secret_refs",
    "render_document",
    "render_string",
    "resolve_secret_refs",
    "secret_ref",
]
