"""The compiler and ``etl-task`` agree on the pod's command line (``etl.core.pod_contract``).

Every container the compiler writes, for every compile case and ``etl ingest`` workflow, is fed to
``etl-task``'s real argument parser (nothing runs): it must parse to the expected subcommand with
the expected values, Argo's input placeholders reaching the right destination. A pod whose command
line its parser refused would fail at the first step of every run, on the cluster only.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from compile_cases import CASES, DATASETS, ROOT, Case, argo_profile, dataset, keyvault_profile

from etl.argo.bundle import plan_bundle
from etl.argo.compiling.dataset_dags import max_batches
from etl.argo.compiling.ingest import compile_ingest_collection, compile_ingest_items
from etl.argo.ingest_sources import IngestSource
from etl.core.pod_contract import (
    BATCH_COUNT_OUTPUT,
    CHUNK_COUNT_OUTPUT,
    CREATE_CHUNKS,
    ETL_TASK,
    FINISH_COLLECTION,
    INGEST_COLLECTION,
    INGEST_ITEMS,
    LAST_SUCCESS,
    MARK_SUCCESS,
    OUTPUTS_DIR,
    PROCESS_CHUNKS,
    SUBCOMMANDS,
    LoadMethod,
)
from etl.dataset.chunking.manifest import ChunkManifest
from etl.task.create_chunks import write_outputs
from etl.task.main import build_parser

RUN_ID = "{{workflow.name}}"
STARTED_AT = "{{workflow.creationTimestamp}}"
SINCE = {
    "2024-05-01T00:00:00Z": datetime(2024, 5, 1, tzinfo=UTC),
    LAST_SUCCESS: LAST_SUCCESS,
}
"""The ``--since`` values of the compile cases, as ``etl-task create-chunks`` reads them."""
STEPS = {
    "process-items": [
        INGEST_COLLECTION,
        CREATE_CHUNKS,
        PROCESS_CHUNKS,
        FINISH_COLLECTION,
        MARK_SUCCESS,
    ],
    "create-chunks": [CREATE_CHUNKS],
    "ingest-collection": [INGEST_COLLECTION],
}
"""The ``etl-task`` steps each collection gets, per workflow command."""
_INPUT = re.compile(r"\{\{inputs\.parameters\.([\w-]+)\}\}")


def _containers(manifest: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = manifest["spec"].get("workflowSpec", manifest["spec"])
    for template in spec["templates"]:
        if "container" in template:
            yield template


def _parse(template: dict[str, Any]) -> tuple[argparse.Namespace, dict[str, int]]:
    """The template's command line as ``etl-task`` parses it, once Argo has given each input
    parameter a value (distinct numbers, returned by name)."""
    inputs = [p["name"] for p in template.get("inputs", {}).get("parameters", [])]
    values = {name: 11 + index for index, name in enumerate(inputs)}
    argv = [
        _INPUT.sub(lambda match: str(values[match[1]]), arg)
        for arg in [*template["container"]["command"], *template["container"]["args"]]
    ]
    assert argv[0] == ETL_TASK
    return build_parser().parse_args(argv[1:]), values


def test_the_compile_cases_cover_every_example_dataset() -> None:
    examples = {path.name for path in (ROOT / "datasets").iterdir() if path.is_dir()}
    assert examples <= set(DATASETS)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_every_container_of_a_dataset_workflow_parses_as_etl_task(
    case: Case, tmp_path: Path
) -> None:
    profile = argo_profile() if case.profile == "argo" else keyvault_profile()
    loaded = dataset(case.dataset)
    dataset_uri = plan_bundle(loaded, profile).dataset_uri
    collections = case.options.get("collections") or [c.id for c in loaded.config.collections]
    since = case.options.get("since")
    steps = []
    for template in _containers(case.compile()):
        args, inputs = _parse(template)
        steps.append((args.command, args.collection))
        assert args.dataset == dataset_uri
        if args.command == INGEST_COLLECTION.name:
            assert args.file is None
            continue
        assert args.run_id == RUN_ID
        if args.command == CREATE_CHUNKS.name:
            assert args.limit == case.options.get("limit")
            assert args.since == (None if since is None else SINCE[since])
            assert args.max_batches == max_batches(profile, len(collections))
            assert args.outputs == Path(OUTPUTS_DIR)
            assert args.concurrency is None
            # Argo reads as output parameters exactly the files the pod writes there
            write_outputs(tmp_path, ChunkManifest("r", "c", 5, 9, 2, "d", 0.1), 3)
            outputs = {p["name"]: p["valueFrom"]["path"] for p in template["outputs"]["parameters"]}
            assert outputs == {
                CHUNK_COUNT_OUTPUT: f"{OUTPUTS_DIR}/{CHUNK_COUNT_OUTPUT}",
                BATCH_COUNT_OUTPUT: f"{OUTPUTS_DIR}/{BATCH_COUNT_OUTPUT}",
            }
            written = {path.name: path.read_text() for path in tmp_path.iterdir()}
            assert written == {CHUNK_COUNT_OUTPUT: "5", BATCH_COUNT_OUTPUT: "3"}
        elif args.command == PROCESS_CHUNKS.name:
            assert (args.batch_index, args.batch_count) == (
                inputs["batch-index"],
                inputs["batch-count"],
            )
            assert args.method == LoadMethod.UPSERT
        elif args.command == FINISH_COLLECTION.name:
            # the dataset's missing_items and max_removals apply unless the command overrides
            assert (args.missing, args.max_removals) == (None, None)
        else:
            assert args.command == MARK_SUCCESS.name
            assert args.started_at == STARTED_AT
    command = case.command.value
    assert sorted(steps) == sorted((s.name, c) for c in collections for s in STEPS[command])


@pytest.mark.parametrize("method", list(LoadMethod))
def test_an_ingest_items_workflow_parses_as_etl_task_ingest_items(method: LoadMethod) -> None:
    sources = [
        IngestSource(f"part-{n}.ndjson", f"blob://data/items/part-{n}.ndjson") for n in (0, 1)
    ]
    manifest = compile_ingest_items(sources, "my-coll", argo_profile(), method=method)
    (template,) = _containers(manifest)
    args, _ = _parse(template)
    assert args.command == INGEST_ITEMS.name
    assert args.sources == [source.uri for source in sources]
    assert (args.collection, args.method) == ("my-coll", method)


def test_an_ingest_collection_workflow_parses_as_etl_task_ingest_collection() -> None:
    source = IngestSource("collection.json", "blob://data/collection.json")
    (template,) = _containers(compile_ingest_collection(source, argo_profile()))
    args, _ = _parse(template)
    assert args.command == INGEST_COLLECTION.name
    assert (args.file, args.dataset, args.collection) == (source.uri, None, None)


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_etl_task_takes_exactly_the_subcommands_and_flags_of_the_contract() -> None:
    parsers = _subparsers()
    assert sorted(parsers) == sorted(s.name for s in SUBCOMMANDS)
    for subcommand in SUBCOMMANDS:
        actions = parsers[subcommand.name]._actions
        flags = {o for a in actions for o in a.option_strings} - {"-h", "--help"}
        positionals = [a.dest for a in actions if not a.option_strings]
        assert flags == set(subcommand.flags), subcommand.name
        assert positionals == (["sources"] if subcommand.takes_sources else []), subcommand.name


def test_importing_etl_task_loads_neither_hera_nor_the_compiler() -> None:
    # The task image carries no Hera and no etl.argo: every etl.task module must import without.
    probe = (
        "import importlib, json, pkgutil, sys\n"
        "import etl.task\n"
        "names = [m.name for m in pkgutil.walk_packages(etl.task.__path__, 'etl.task.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] == 'hera' or m.startswith('etl.argo')]\n"
        "print(json.dumps([names, loaded]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    imported, compiler_modules = json.loads(result.stdout)
    assert {"etl.task.main", "etl.task.create_chunks", "etl.task.process_chunks"} <= set(imported)
    assert compiler_modules == []
