"""``$<< ... >>`` templating of parsed YAML documents (see ``docs/templating.md``).

:func:`check_document_markers` refuses malformed markers (``$< x >>``, ``${{ x }}``) in every string
value; :func:`render_document` substitutes expressions in string values; secrets stay references
(``$<< secrets.NAME >>``) that :func:`resolve_secret_refs` replaces at run time.
"""

from etl.core.templating.expressions import ExpressionError, check_markers
from etl.core.templating.render import (
    TemplateContext,
    check_document_markers,
    render_document,
    render_string,
)
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
    "check_document_markers",
    "check_markers",
    "find_secret_refs",
    "render_document",
    "render_string",
    "resolve_secret_refs",
    "secret_ref",
]
