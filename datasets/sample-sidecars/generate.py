#!/usr/bin/env python3
"""Write the sample-sidecars assets: N synthetic scene sidecars and their data files.

    uv run python datasets/sample-sidecars/generate.py --count 2000
    uv run python datasets/sample-sidecars/generate.py --count 50 blob://devstoreaccount1/samples/scenes

TARGET is a folder, a ``file://`` URI or a ``blob://`` URI (Azurite through the built-in ``local``
profile); the default is ``$ETL_STATE_DIR/sample-sidecars/assets``. Re-running writes only what
changed; scenes of an earlier, larger ``--count`` stay (the output line says how many). From
Python: ``sample_sidecars.generate_sidecars(count, target)``.
"""

from __future__ import annotations

import argparse
import sys

from sample_sidecars.records import DEFAULT_SEED, default_assets_uri, generate_sidecars

from etl.core.errors import EtlError


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, write the assets, print one summary line; exit 1 on storage errors."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "target", nargs="?", help=f"where to write (default: {default_assets_uri()})"
    )
    parser.add_argument("--count", type=int, default=2000, help="number of scenes (default 2000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    try:
        result = generate_sidecars(args.count, args.target, seed=args.seed)
    except (EtlError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    others = ""
    if result.others:
        others = (
            f"; {result.others} more scenes of an earlier, larger --count are there too and "
            "the dataset lists them all (delete the folder to start over)"
        )
    print(
        f"{result.scenes} scenes in {result.uri}: {result.written} objects written, "
        f"{result.unchanged} unchanged ({result.seconds:.1f} s){others}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
