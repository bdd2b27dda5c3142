"""docs/model.md matches the code: every constant documented with its current value."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_model_doc_constants_are_current():
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_model_doc.py"), "--check"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_model_doc_names_every_constant_used_in_the_formulas():
    from imcopt.hardware import load_technology

    text = (ROOT / "docs" / "model.md").read_text().split("<!-- constants -->")[0]
    for name in load_technology("rram").constants:
        assert f"{name}" in text, f"docs/model.md does not explain {name}"
