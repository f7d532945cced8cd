"""How fast ``etl dataset validate`` refuses a file past the input limits (etl.core.input_limits).

Writes the inputs of issue 22 (finding 5) to a temporary folder: a 1.7 KB alias bomb (9 levels of
``&a [*a, ...]``, 9**9 values when expanded), 100,000-deep nesting and a 57 MB ``dataset.yaml``,
then times ``etl dataset validate`` on each (a whole process, wall clock, median of N runs after a
warm-up) against ``etl dataset validate`` of the sample dataset (datasets/sample-sidecars), which
does the ordinary work: parse, template, model, import the collection class. Before the limits the
bomb ran past 120 s and 5.6 GB, the nesting ended in RecursionError and the 57 MB file took 95 s.

    uv run python benchmarks/bounds.py [-n 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "datasets" / "sample-sidecars"


def write_inputs(folder: Path) -> dict[str, Path]:
    """The three files past a limit, by name."""
    names = [f"anchor-{level}-wxyz" for level in range(10)]
    bomb = [f"{names[0]}: &{names[0]} [{', '.join(['lol'] * 9)}]"]
    for level in range(1, 10):
        items = ", ".join([f"*{names[level - 1]}"] * 9)
        bomb.append(f"{names[level]}: &{names[level]} [{items}]")
    depth = 100_000
    line = "# " + "x" * 1000 + "\n"
    texts = {
        "alias bomb": "\n".join(bomb) + "\n",
        "100,000-deep nesting": "x: " + "[" * depth + "]" * depth + "\n",
        "57 MB file": "id: big\n" + line * (57_000_000 // len(line)),
    }
    paths = {}
    for index, (name, text) in enumerate(texts.items()):
        paths[name] = folder / f"{index}.yaml"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def median_seconds(command: list[str], runs: int, expect: int) -> float:
    """The median wall-clock time of ``runs`` runs of ``command`` (after one warm-up run)."""
    times = []
    for run in range(runs + 1):
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != expect:
            sys.exit(f"{command}: exit {result.returncode}, expected {expect}: {result.stderr}")
        if run:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Measure and print one line per input, the baseline first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=5, help="runs per command (default 5)")
    runs = parser.parse_args().runs
    etl = shutil.which("etl") or str(Path(sys.executable).with_name("etl"))
    validate = [etl, "dataset", "validate", "-d"]
    with tempfile.TemporaryDirectory() as tmp:
        base = median_seconds([*validate, str(SAMPLE), "-a", f"root={tmp}"], runs, 0)
        print(f"validate sample-sidecars (baseline): median {base:.3f} s over {runs} runs")
        for name, path in write_inputs(Path(tmp)).items():
            size = path.stat().st_size
            seconds = median_seconds([*validate, str(path)], runs, 2)
            print(
                f"bounds: validate {name} ({size:,} bytes) refused in {seconds:.3f} s, "
                f"ratio {seconds / base:.2f} of the baseline"
            )


if __name__ == "__main__":
    main()
