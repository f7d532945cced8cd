"""URIs with a scheme etl cannot read are located errors when the dataset is loaded, not at run time.

Storage locations (``asset_storage[].uri``, ``chunk_storage.uri``) take ``blob://``, ``file://``
or a local path; code and templates, uploaded from this machine, take ``file://`` or a local path.
``etl ingest`` sources are checked the same way.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from etl_cli import run_etl

STORAGE_SCHEMES = "etl reads blob://, file:// or a local path"

DATASET = """\
id: demo
args: [root]
collections:
  - id: demo
    class: demo:Demo
    asset_storage:
      - uri: {asset}
    chunk_storage:
      uri: {chunks}
"""


def _write(folder: Path, text: str) -> Path:
    path = folder / "dataset.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _validate(path: Path, *args: str) -> tuple[int, str, str]:
    result = run_etl("dataset", "validate", "-d", str(path), *args)
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("asset", "chunks", "expected"),
    [
        (
            "ftp://host/assets/",
            "blob://acct/state/",
            "7:14: collections[0].asset_storage[0].uri: unsupported URI scheme 'ftp://' in "
            "'ftp://host/assets/'",
        ),
        (
            "blob://acct/assets/",
            "s3://bucket/state/",
            "9:12: collections[0].chunk_storage.uri: unsupported URI scheme 's3://' in "
            "'s3://bucket/state/'",
        ),
        (
            "http://host/a/",
            "file:///tmp/state",
            "7:14: collections[0].asset_storage[0].uri: unsupported URI scheme 'http://' in "
            "'http://host/a/'",
        ),
    ],
)
def test_an_unsupported_storage_scheme_is_a_located_error(
    config_dir: Path, tmp_path: Path, asset: str, chunks: str, expected: str
) -> None:
    path = _write(tmp_path, DATASET.format(asset=asset, chunks=chunks))
    code, stdout, stderr = _validate(path)
    assert code == 2
    assert stdout == ""
    assert stderr.splitlines() == [f"error: {path}:{expected}; {STORAGE_SCHEMES}"]


def test_a_templated_uri_is_checked_after_substitution(config_dir: Path, tmp_path: Path) -> None:
    path = _write(tmp_path, DATASET.format(asset="$<< args.root >>/assets/", chunks="/tmp/state"))
    code, _, stderr = _validate(path, "-a", "root=s3://bucket")
    assert code == 2
    assert stderr.splitlines() == [
        f"error: {path}:7:14: collections[0].asset_storage[0].uri: unsupported URI scheme "
        f"'s3://' in 's3://bucket/assets/'; {STORAGE_SCHEMES}"
    ]
    assert _validate(path, "-a", "root=blob://acct/container")[:2] == (
        0,
        "ok: demo (1 collection)\n",
    )
    assert _validate(path, "-a", "root=/data")[0] == 0


@pytest.mark.parametrize(
    ("asset", "chunks"),
    [
        ("blob://acct/$<< secrets.container >>/", "file:///tmp/state"),
        ("$<< secrets.asset-root >>", "./state"),
        ("file:///data/assets", "blob://acct/state/$<< secrets.prefix >>"),
    ],
)
def test_supported_uris_and_secret_references_pass(
    config_dir: Path, tmp_path: Path, asset: str, chunks: str
) -> None:
    path = _write(tmp_path, DATASET.format(asset=asset, chunks=chunks))
    assert _validate(path) == (0, "ok: demo (1 collection)\n", "")


def test_code_and_templates_must_be_on_this_machine(config_dir: Path, tmp_path: Path) -> None:
    text = DATASET.format(asset="blob://acct/assets/", chunks="blob://acct/state/").replace(
        "    class: demo:Demo\n",
        "    class: demo:Demo\n    template: blob://acct/templates/demo/\n",
    )
    path = _write(tmp_path, text)
    code, _, stderr = _validate(path)
    assert code == 2
    assert stderr.splitlines() == [
        f"error: {path}:6:15: collections[0].template: unsupported URI scheme 'blob://' in "
        "'blob://acct/templates/demo/'; etl reads file:// or a local path here: code and "
        "templates are uploaded from this machine"
    ]


@pytest.mark.parametrize(
    "command",
    [
        ["ingest", "items", "ftp://host/items.ndjson", "-c", "demo"],
        ["ingest", "collection", "https://host/collection.json"],
    ],
)
def test_ingest_sources_with_an_unsupported_scheme_exit_2(
    config_dir: Path, command: list[str]
) -> None:
    result = run_etl(*command)
    assert result.returncode == 2
    assert result.stdout == ""
    source = command[2]
    scheme = source.split("://")[0]
    assert result.stderr.splitlines() == [
        f"error: unsupported URI scheme '{scheme}://' in '{source}'; {STORAGE_SCHEMES}"
    ]
