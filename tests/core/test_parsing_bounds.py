"""Every file etl parses from a user is bounded (issue 22, findings 5 and 11).

``dataset.yaml``, a profile file and a collection template past a limit of
``etl.core.input_limits`` (a YAML alias bomb, 100,000-deep nesting, a file over the size limit) are
refused with a located one-line error and exit 2, long before the subprocess timeout: before the
limits, the alias bomb ran ``etl dataset validate`` for minutes and gigabytes, the deep nesting
ended in ``internal error: RecursionError`` and a 57 MB file took 95 s. An empty or truncated
profile file is an error naming the file, never a silent fall-back to the built-in settings.
Everything goes through the ``etl`` command.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from etl_cli import ROOT, run_etl

from etl.core.input_limits import (
    MAX_FILE_BYTES,
    TOO_DEEP,
    TOO_LARGE,
    TOO_MANY_ALIASES,
    TOO_MANY_VALUES,
)

SAMPLE = ROOT / "datasets" / "sample-sidecars"
TIMEOUT = 60.0  # seconds: generous; the old code ran the alias bomb for minutes
DEPTH = 100_000


def alias_bomb(levels: int = 9) -> str:
    """9 levels of ``&a [*a, ...]``: 1.7 KB of YAML that expands to 9**9 values."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def many_aliases() -> str:
    """More aliases than the limit, each of one value (so only their count is past it)."""
    return "one: &one x\nmany: [" + ", ".join(["*one"] * 1001) + "]\n"


def deep_yaml() -> str:
    return "deep: " + "[" * DEPTH + "]" * DEPTH + "\n"


def over_size_yaml() -> str:
    line = "# " + "x" * 1000 + "\n"
    return "id: big\n" + line * (MAX_FILE_BYTES // len(line) + 1)


# Each case: the YAML, and the line:column and message of the error it gives.
YAML_CASES = {
    "alias-bomb": (alias_bomb, "6:5", TOO_MANY_VALUES),
    "many-aliases": (many_aliases, "2:6008", TOO_MANY_ALIASES),
    "deep-nesting": (deep_yaml, "1:107", TOO_DEEP),
    "over-size": (over_size_yaml, None, TOO_LARGE),
}


def located(path: Path, where: str | None, message: str) -> str:
    return f"error: {path}:{where}: {message}\n" if where else f"error: {path}: {message}\n"


@pytest.mark.parametrize("case", YAML_CASES)
def test_a_dataset_yaml_past_a_limit_is_a_located_exit_2(
    case: str, config_dir: Path, tmp_path: Path
) -> None:
    make, where, message = YAML_CASES[case]
    path = tmp_path / "dataset.yaml"
    path.write_text(make(), encoding="utf-8")

    result = run_etl("dataset", "validate", "-d", str(path), timeout=TIMEOUT)

    assert result.returncode == 2, result.stderr
    assert result.stderr == located(path, where, message)


@pytest.mark.parametrize("case", YAML_CASES)
def test_a_profile_file_past_a_limit_is_a_located_exit_2(case: str, config_dir: Path) -> None:
    make, where, message = YAML_CASES[case]
    path = config_dir / "profiles" / "mine.yaml"
    path.parent.mkdir()
    path.write_text(make(), encoding="utf-8")

    result = run_etl("-p", "mine", "profile", "show", timeout=TIMEOUT)

    assert result.returncode == 2, result.stderr
    assert result.stderr == located(path, where, message)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A copy of the sample dataset, whose template the tests replace."""
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def test_the_sample_dataset_and_its_template_are_within_the_limits(
    sample: Path, config_dir: Path
) -> None:
    result = run_etl("dataset", "validate", "-d", str(sample), "-a", "root=/tmp/r")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ('{"id": ' + "[" * DEPTH + "]" * DEPTH + "}\n", "1:107", TOO_DEEP),
        ('{"id": "' + "x" * MAX_FILE_BYTES + '"}\n', None, TOO_LARGE),
        ('{\n  "id": oops\n}\n', "2:9", "not JSON: Expecting value"),
    ],
    ids=["deep-nesting", "over-size", "not-json"],
)
def test_a_collection_template_past_a_limit_is_a_located_exit_2(
    text: str, where: str | None, message: str, sample: Path, config_dir: Path
) -> None:
    template = sample / "collection" / "template.json"
    template.write_text(text, encoding="utf-8")

    result = run_etl("dataset", "validate", "-d", str(sample), "-a", "root=/tmp/r", timeout=TIMEOUT)

    assert result.returncode == 2, result.stderr
    assert result.stderr == located(template, where, message)


FULL_PROFILE = """\
runner: local
pgstac:
  dsn: postgresql://me@127.0.0.1:5433/pgstac
workflow:
  max_pods: 2
"""


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("", None, "the profile file is empty: write its settings back, or delete it"),
        ("# all settings lost\n", None, "the profile file is empty: write its settings back, "
         "or delete it"),
        (FULL_PROFILE[:60], "3", "the profile file ends mid-line (truncated?): a profile file "
         "ends with a newline; complete it, or create it again with 'etl profile create NAME "
         "--force'"),
        ("- runner\n- local\n", "1:1", "a profile file must be a mapping"),
    ],
    ids=["empty", "only-a-comment", "truncated", "not-a-mapping"],
)  # fmt: skip
@pytest.mark.parametrize("name", ["mine", "local"])
def test_an_empty_or_truncated_profile_file_is_an_error_naming_it(
    text: str, where: str | None, message: str, name: str, config_dir: Path
) -> None:
    path = config_dir / "profiles" / f"{name}.yaml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")

    result = run_etl("-p", name, "profile", "show", timeout=TIMEOUT)

    assert result.returncode == 2, result.stderr
    assert result.stderr == located(path, where, message)
    assert "55432" not in result.stdout  # never the built-in PgSTAC


def test_a_whole_profile_file_still_loads(config_dir: Path) -> None:
    path = config_dir / "profiles" / "mine.yaml"
    path.parent.mkdir()
    path.write_text(FULL_PROFILE, encoding="utf-8")

    result = run_etl("-p", "mine", "profile", "show", "-o", "json", timeout=TIMEOUT)

    assert result.returncode == 0, result.stderr
    assert '"max_pods": 2' in result.stdout
