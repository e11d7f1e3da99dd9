"""Criteria sets shipped with the product, and the XLSX template for a province's own set.

The YAML files here are SAMPLES (`sample: true`): built from what public sources state about the
structure of real sets, with illustrative criteria and rules. A province loads its official set with
`cchc-bot criteria import FILE.yaml|FILE.xlsx` (see docs/criteria.md).
"""

from __future__ import annotations

from pathlib import Path

CRITERIA_DIR = Path(__file__).resolve().parent

#: The blank-able XLSX template (filled with the 2018 departments sample as an example).
TEMPLATE_PATH = CRITERIA_DIR / "template.xlsx"


def shipped_sets() -> list[Path]:
    """The YAML criteria sets shipped with the product, sorted by file name."""
    return sorted(CRITERIA_DIR.glob("*.yaml"))


def shipped_path(code: str) -> Path:
    """The shipped YAML file of set `code` ("2018-so"); KeyError if there is none."""
    path = CRITERIA_DIR / f"{code}.yaml"
    if path.name != f"{code}.yaml" or not path.is_file():
        known = ", ".join(p.stem for p in shipped_sets())
        raise KeyError(f"no shipped criteria set {code!r} (shipped: {known})")
    return path
