"""`python -m bench` (or `make bench`) runs every benchmark module that defines `main()`."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys

import bench


def run_all(names: list[str]) -> int:
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or (names and info.name not in names):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        main = getattr(module, "main", None)
        if main is None:
            continue
        print(f"== bench.{info.name}", flush=True)
        result = main([]) if inspect.signature(main).parameters else main()
        if result:
            return int(result)
    return 0


if __name__ == "__main__":
    sys.exit(run_all(sys.argv[1:]))
