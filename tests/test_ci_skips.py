"""CI=true turns a skip for missing reference data into a failure (tests/conftest.py)."""

pytest_plugins = ["pytester"]

TEST = '''
import pytest

def test_needs_reference():
    pytest.skip("reference results not found at ../shared/reference/x.csv")

def test_needs_gpu():
    pytest.skip("no CUDA GPU")
'''


def _run(pytester, monkeypatch, ci: str | None):
    pytester.makeconftest((__import__("pathlib").Path(__file__).parent / "conftest.py")
                          .read_text())
    pytester.makepyfile(TEST)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    return pytester.runpytest("-q", "-p", "no:cacheprovider")


def test_outside_ci_missing_reference_data_skips(pytester, monkeypatch):
    _run(pytester, monkeypatch, None).assert_outcomes(skipped=2)


def test_in_ci_missing_reference_data_fails_and_other_skips_stay(pytester, monkeypatch):
    result = _run(pytester, monkeypatch, "true")
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*CI must run it*reference results not found*"])
