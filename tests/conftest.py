"""Every test sees an empty folder of imported workloads, never the user's own."""

import pytest


@pytest.fixture(autouse=True)
def _user_workloads_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("IMCOPT_WORKLOADS_DIR", str(tmp_path_factory.mktemp("user_workloads")))
