"""A compiled manifest as text: what ``etl dataset render`` prints and golden files hold."""

from __future__ import annotations

import json
from typing import Any, Literal

import yaml

__all__ = ["ManifestFormat", "manifest_text"]

ManifestFormat = Literal["yaml", "json"]


def manifest_text(manifest: dict[str, Any], output: ManifestFormat = "yaml") -> str:
    """``manifest`` as YAML (keys in Argo's order, block style) or indented JSON, ending in a newline."""
    if output == "json":
        return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text: str = yaml.dump(
        manifest,
        Dumper=dumper,
        sort_keys=False,
        default_flow_style=False,
        width=100,
        allow_unicode=True,
    )
    return text
