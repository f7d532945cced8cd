"""``$<< ... >>`` templating of parsed YAML documents (see ``docs/templating.md``).

``check_document_markers`` refuses malformed markers (``$< x >>``, ``${{ x }}``) in every string
value; :func:`render_document` substitutes expressions in string values; secrets stay references
(``$<< secrets.NAME >>``) that :func:`resolve_secret_refs` replaces at run time.

Nothing in etl imports through this file: etl's code imports each name from the module
that defines it (docs/internals.md, "Packages and who imports whom").
"""
