"""Rewrite tests/golden/model.json: the pinned whole-network outputs of tests/golden_cases.py.

    python tools/update_golden.py

Run it only on purpose (a model or constant changed and the change is right), and say why in
the commit: the golden test exists to make every such change visible.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from golden_cases import CASES, outputs  # noqa: E402

PATH = ROOT / "tests" / "golden" / "model.json"


def main() -> None:
    doc = {name: outputs(name) for name in CASES}
    PATH.parent.mkdir(parents=True, exist_ok=True)
    PATH.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"wrote {PATH.relative_to(ROOT)}: {len(doc)} cases, "
          f"{sum(len(v) for v in doc.values())} numbers")


if __name__ == "__main__":
    main()
