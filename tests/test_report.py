"""Reports: built from a finished small study; every figure the page shows exists."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from imcopt.cli import app
from imcopt.report import ReportError, build_report
from imcopt.report.tables import pareto_mask
from imcopt.study import Study
from test_study import TINY


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("study")
    Study(TINY, root).run()
    r = CliRunner().invoke(app, ["report", str(root)])
    assert r.exit_code == 0, r.output
    return root / "report" / "index.html"


def test_page_references_existing_figures_and_has_tables(report: Path) -> None:
    page = report.read_text()
    imgs = re.findall(r'<img src="([^"]+)"', page)
    assert len(imgs) >= 4  # normalised, joint vs largest (x2 aggregations), convergence, pareto
    for src in imgs:
        assert not src.startswith(("http", "//")) and (report.parent / src).stat().st_size > 0
    assert page.count("<table") >= 4
    assert "76.2 %" in page and "Headline" in page
    for name in ("headline.csv", "best_designs.csv", "normalised_best.csv",
                 "joint_vs_largest.csv", "method_summary.csv", "references.csv"):
        assert not pd.read_csv(report.parent / name).empty, name
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_tables_content(report: Path) -> None:
    d = report.parent
    head = pd.read_csv(d / "headline.csv")
    assert set(head.baseline) == {"separate", "largest", "ga", "ga_sampling", "exhaustive"}
    ex = head[head.baseline == "exhaustive"]
    assert (ex.reduction_pct.dropna() >= -1e-9).all()  # nothing beats the optimum
    norm = pd.read_csv(d / "normalised_best.csv")
    assert (norm.normalised_edap >= 1 - 1e-9).all()  # own optimum = the best seen
    assert norm.groupby(["aggregation", "method", "workload"]).best.sum().eq(1).all()
    best = pd.read_csv(d / "best_designs.csv")
    assert len(best) == 22 and {"voltage_v", "edap.resnet18", "energy_j.alexnet"} <= set(best)


def test_report_errors(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"no study\.json"):
        build_report(tmp_path)
    r = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert r.exit_code == 2


def test_pareto_mask() -> None:
    p = np.array([[1, 1, 1], [2, 2, 2], [0, 3, 1], [1, 1, 1.5], [3, 0, 0]], dtype=float)
    assert pareto_mask(p).tolist() == [True, False, True, False, True]


LOAD_CHECK = ("<script>window.addEventListener('load',function(){var im=document.images,ok=0;"
              "for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0)ok++;}"
              "document.body.dataset.images=im.length;document.body.dataset.imagesLoaded=ok;"
              "});</script>")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed")
def test_page_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    shot = report.parent / "screenshot.png"  # kept next to the page as a test artifact
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
           f"--screenshot={shot}", "--window-size=1280,2000", report.resolve().as_uri()]
    subprocess.run(cmd, check=True, timeout=120, capture_output=True)
    assert shot.stat().st_size > 10_000
    # every figure loads in the browser, and the tables are there: a copy of the page (the
    # page itself stays script-free) notes on <body> how many of its images decoded
    probe = report.parent / "_load_check.html"
    probe.write_text(report.read_text().replace("</body>", LOAD_CHECK + "</body>"))
    dom = subprocess.run([*cmd[:-2], "--virtual-time-budget=10000", "--dump-dom",
                          probe.resolve().as_uri()], check=True, timeout=120,
                         capture_output=True, text=True).stdout
    images = re.search(r'data-images="(\d+)"', dom)
    loaded = re.search(r'data-images-loaded="(\d+)"', dom)
    assert images and loaded, "the page's load check did not run"
    assert int(images.group(1)) > 0
    assert loaded.group(1) == images.group(1)
    assert dom.count("<table") >= 3


def test_report_of_a_single_search_folder(tmp_path: Path) -> None:
    from imcopt.search import run_search, write_results
    from test_search import SMALL_CONFIG

    out = tmp_path / "search"
    res = run_search({**SMALL_CONFIG, "objective": {"aggregation": "max",
                                                    "optima": "separate"}, "top_k": 4})
    write_results(res, out)
    r = CliRunner().invoke(app, ["report", str(out)])
    assert r.exit_code == 0, r.output
    page = (out / "report" / "index.html").read_text()
    for src in re.findall(r'src="([^"]+)"', page):
        assert (out / "report" / src).stat().st_size > 0
    assert "Best designs" in page and "convergence.png" in page and "pareto.png" in page
    best = pd.read_csv(out / "report" / "best_designs.csv")
    assert len(best) == 4 and best["fitness"].is_monotonic_increasing
    assert (best[[c for c in best.columns if c.startswith("loss_vs_optimum.")]] >= -1e-12
            ).all().all()
    front = pd.read_csv(out / "report" / "pareto.csv")
    designs = pd.read_csv(out / "kept_designs.csv.gz")
    assert 0 < len(front) <= designs["feasible"].sum()
    # with every design saved the report draws them all, and finds the same front
    everything = tmp_path / "everything"
    write_results(res, everything, save_all=True)
    r = CliRunner().invoke(app, ["report", str(everything)])
    assert r.exit_code == 0, r.output
    assert len(pd.read_parquet(everything / "designs.parquet")) == res.evaluator.n_evals
    pd.testing.assert_frame_equal(pd.read_csv(everything / "report" / "pareto.csv"), front)
    conv = pd.read_csv(out / "convergence.csv")
    assert list(dict.fromkeys(conv["search"])) == [
        *[f"separate:{w}" for w in res.evaluator.workload_names], "joint"]
    # a results file changed after the run: named, exit 2, no report over bad data
    (out / "kept_designs.csv.gz").write_text("key\nx\n")
    r = CliRunner().invoke(app, ["report", str(out)])
    assert r.exit_code == 2 and "kept_designs.csv.gz" in r.output
