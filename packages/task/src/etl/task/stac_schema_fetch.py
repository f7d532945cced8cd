"""``scripts/stac-schemas``: add STAC schemas to the local cache, on a machine with internet.

``add URI...`` downloads each schema and every remote schema it refers to (``$ref``, followed
until all are cached) into the cache folder (default :data:`etl.task.stac_schemas.CACHE_DIR`,
which the task image ships); ``refresh`` downloads every schema of the folder again. Pods never
run this: they read only the cache.

    scripts/stac-schemas add https://stac-extensions.github.io/eo/v1.1.0/schema.json
    scripts/stac-schemas refresh [--into DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

from etl.task.stac_schemas import CACHE_DIR, StacSchemas, cache_path, folder_schemas

__all__ = ["add_schemas", "cached_uris", "main"]

_TIMEOUT = 30.0
"""Seconds one download may take."""


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str):
            yield ref
        for child in value.values():
            yield from _refs(child)
    elif isinstance(value, list):
        for child in value:
            yield from _refs(child)


def _download(uri: str) -> tuple[bytes, Any]:
    try:
        with urllib.request.urlopen(uri, timeout=_TIMEOUT) as response:
            body: bytes = response.read()
    except OSError as exc:
        raise OSError(f"{uri}: {exc}") from None
    try:
        return body, json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{uri}: not JSON: {exc}") from None


def add_schemas(uris: list[str], folder: Path, *, again: bool = False) -> list[str]:
    """Download ``uris`` and the remote schemas they refer to into ``folder``; return the URIs
    written. A schema already cached (here or as pystac's core) is kept unless ``again``."""
    known = StacSchemas([folder])
    todo = [urldefrag(uri).url for uri in uris]
    forced = set(todo) if again else set()
    written: list[str] = []
    while todo:
        uri = todo.pop(0)
        if uri in written or (uri not in forced and _is_cached(known, uri)):
            continue
        body, schema = _download(uri)
        path = cache_path(folder, uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        written.append(uri)
        base = schema.get("$id", uri) if isinstance(schema, dict) else uri
        for ref in _refs(schema):
            target = urldefrag(urljoin(base, ref)).url
            if target.startswith(("http://", "https://")) and target != uri:
                todo.append(target)
    return written


def _is_cached(schemas: StacSchemas, uri: str) -> bool:
    try:
        schemas.validator(uri)
    except LookupError:
        return False
    return True


def cached_uris(folder: Path) -> list[str]:
    """The URIs of the schemas in ``folder``."""
    return [uri for uri, _ in folder_schemas(folder)]


def main(argv: list[str] | None = None) -> int:
    """Add or refresh schemas; exit 2 on a bad URI, 1 when a download fails."""
    parser = argparse.ArgumentParser(prog="scripts/stac-schemas", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="download schemas (and those they refer to)")
    add.add_argument("uris", nargs="+", metavar="URI")
    refresh = commands.add_parser("refresh", help="download every cached schema again")
    for sub in (add, refresh):
        sub.add_argument("--into", type=Path, default=CACHE_DIR, metavar="DIR")
    args = parser.parse_args(argv)
    uris = args.uris if args.command == "add" else cached_uris(args.into)
    try:
        for uri in add_schemas(uris, args.into, again=args.command == "refresh"):
            print(f"cached {uri} as {cache_path(args.into, uri)}")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: download failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
