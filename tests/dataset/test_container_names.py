"""Container names (issue 25, gap 12): an invalid one is refused by validate, a misspelt one by the
preflight with the account's closest names.

An invalid name (``UX_Stations``) and a misspelt one both passed ``etl dataset validate`` and failed
only when a pod listed them: the first with Azure's HTTP 400, the second with a bare ``not found``,
though the account's containers can be listed. Now the first fails ``validate`` (and anything that
loads the dataset) at its line, saying the rule; the second fails the preflight of a local
``--submit`` and ``etl profile check -d`` in one line, exit 2, naming the closest existing names.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from etl_cli import run_etl

ACCOUNT = "devstoreaccount1"
DATASET = """\
id: stations
collections:
  - id: stations
    class: etl.dataset:PremadeItemCollection
    asset_storage:
      - uri: {assets}
        chunks: {{}}
    chunk_storage:
      uri: {chunks}
"""
URI_AT = "6:14: collections[0].asset_storage[0].uri"
RULE = (
    "Azure container names are 3 to 63 characters: lowercase letters, digits and single hyphens, "
    "starting and ending with a letter or digit"
)


def write_dataset(folder: Path, assets: str, chunks: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.yaml").write_text(DATASET.format(assets=assets, chunks=chunks))
    return folder


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize(
    ("container", "suggestion"),
    [
        ("UX_Stations", " (e.g. 'ux-stations')"),
        ("ab", ""),
        ("ux--stations", " (e.g. 'ux-stations')"),
        ("-stations", " (e.g. 'stations')"),
        ("s" * 64, ""),
    ],
)
def test_an_invalid_container_name_fails_validate_at_its_line(
    config_dir: Path, tmp_path: Path, container: str, suggestion: str
) -> None:
    folder = write_dataset(
        tmp_path / "d", f"blob://{ACCOUNT}/{container}/data", (tmp_path / "runs").as_uri()
    )

    validated = run_etl("dataset", "validate", "-d", str(folder))
    rendered = run_etl("dataset", "render", "-d", str(folder))

    expected = (
        f"error: {folder / 'dataset.yaml'}:{URI_AT}: invalid container name {container!r}: "
        f"{RULE}{suggestion}"
    )
    for result in (validated, rendered):
        assert result.returncode == 2, result.stderr
        assert error_lines(result.stderr) == [expected]
        assert "Traceback" not in result.stderr


def test_valid_container_names_at_the_limits_pass_validate(
    config_dir: Path, tmp_path: Path
) -> None:
    folder = write_dataset(
        tmp_path / "d", f"blob://{ACCOUNT}/a-1/data", f"blob://{ACCOUNT}/{'r' * 63}/runs"
    )

    validated = run_etl("dataset", "validate", "-d", str(folder))

    assert validated.returncode == 0, validated.stderr


@pytest.fixture
def stations_container(azurite_connection_string: str) -> Iterator[str]:
    """A container named ``stations-HEX`` (its misspelling is ``statoins-HEX``)."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azurite_connection_string)
    name = f"stations-{uuid.uuid4().hex[:12]}"
    service.create_container(name)
    yield name
    service.delete_container(name)


@pytest.mark.postgres
def test_a_misspelt_container_fails_the_preflight_with_the_closest_names(
    env: dict[str, str], tmp_path: Path, stations_container: str
) -> None:
    misspelt = stations_container.replace("stations", "statoins")
    assets = f"blob://{ACCOUNT}/{misspelt}/data"
    folder = write_dataset(tmp_path / "d", assets, (tmp_path / "runs").as_uri())

    validated = run_etl("dataset", "validate", "-d", str(folder), env=env)
    submitted = run_etl("dataset", "process-items", "-d", str(folder), "--submit", env=env)
    checked = run_etl("profile", "check", "-d", str(folder), env=env)

    assert validated.returncode == 0, "validate cannot know what the account holds"
    problem = (
        f"storage {assets}: not found: container blob://{ACCOUNT}/{misspelt} (for {assets}); "
        f"did you mean blob://{ACCOUNT}/{stations_container}?"
    )
    for result in (submitted, checked):
        assert result.returncode == 2, result.stderr
        [line] = error_lines(result.stderr)
        assert line == (
            f"error: preflight of profile 'local' found 1 problem: {problem} "
            "(`etl profile check` runs these checks again)"
        )
        assert "waiting on" not in result.stderr and "Traceback" not in result.stderr
    assert not (Path(env["ETL_STATE_DIR"]) / "runs").exists(), "nothing ran"
