"""The child process of the collection class check (:mod:`etl.dataset.class_check`).

Run as ``python -P -m etl.dataset.class_probe`` with ``{"search_path": [...], "classes": [...]}``
as JSON on stdin. It imports each class with :func:`~etl.dataset.collection.load_collection_class`,
as a pod does, and writes one JSON line per class, in order, to the stdout it was started with:
``{}`` when the class is usable, else ``{"error": ..., "missing_module": ..., "own_module": ...}``.
Whatever the imported code prints goes to stderr, so it cannot garble the answer.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from etl.dataset.collection import CollectionClassError, load_collection_class

__all__ = ["main", "probe"]


def probe(reference: str, search_path: Sequence[str]) -> dict[str, Any]:
    """What importing ``reference`` (``module:ClassName``) from ``search_path`` gives."""
    try:
        load_collection_class(reference, search_path=search_path)
    except CollectionClassError as exc:
        return {
            "error": exc.message,
            "missing_module": exc.missing_module,
            "own_module": exc.own_module,
        }
    except SystemExit as exc:
        return {"error": f"importing {reference!r} called sys.exit({exc.code!r})"}
    return {}


def main() -> None:
    """Read the request on stdin, answer each class on the original stdout."""
    request = json.load(sys.stdin)
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    for reference in request["classes"]:
        answers.write(json.dumps(probe(reference, request["search_path"])) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
