"""PCTasks' top-level ``target_environment`` is accepted with a warning that says what etl uses."""

from __future__ import annotations

from pathlib import Path

from etl_cli import run_etl

DATASET = """\
id: demo
target_environment: staging
collections:
  - id: demo
    class: demo:Demo
    asset_storage: []
"""


def test_target_environment_warns_and_validates(config_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "dataset.yaml"
    path.write_text(DATASET, encoding="utf-8")
    result = run_etl("dataset", "validate", "-d", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok: demo (1 collection)\n"
    (warning,) = result.stderr.splitlines()
    assert warning.startswith(f"{path}:2:1: target_environment: warning: ignored: ")
    assert "-p NAME or ETL_PROFILE" in warning
