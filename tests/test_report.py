"""Reports: built from a finished small study; losses against the group's reference; every
figure the page shows exists; the page fits a 1,280 px window."""

from __future__ import annotations

import json
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
from imcopt.storage import write_manifest
from imcopt.study import Study
from test_study import TINY

NETS = ["resnet18", "alexnet"]


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("study")
    Study(TINY, root).run()
    r = CliRunner().invoke(app, ["report", str(root)])
    assert r.exit_code == 0, r.output
    return root


@pytest.fixture(scope="module")
def report(study: Path) -> Path:
    return study / "report" / "index.html"


def test_page_references_existing_figures_and_has_tables(report: Path) -> None:
    page = report.read_text()
    imgs = re.findall(r'<img src="([^"]+)"', page)
    assert "generality_rram_two.png" in imgs  # the cost of generality leads the page
    assert page.index("What each network loses") < page.index("Headline")
    for src in imgs:
        assert not src.startswith(("http", "//")) and (report.parent / src).stat().st_size > 0
    assert page.count("<table") >= 6
    assert page.count("<table") == page.count("<div class=tbl><table")  # each in its box
    assert "76.2 %" in page
    for name in ("headline.csv", "best_designs.csv", "normalised_best.csv", "network_losses.csv",
                 "joint_vs_largest.csv", "method_summary.csv", "references.csv",
                 "generality_points.csv"):
        assert not pd.read_csv(report.parent / name).empty, name
    assert "http://" not in page and "https://" not in page and "<script" not in page


def _reference(study: Path) -> dict[str, float]:
    return {w: v["edap_j_s_mm2"] for w, v in
            json.loads((study / "study.json").read_text())["references"]["rram-two"][
                "workloads"].items()}


def test_headline_has_the_worst_loss_of_every_method_and_aggregation(study: Path) -> None:
    head = pd.read_csv(study / "report" / "headline.csv")
    methods = set(TINY["methods"])
    assert set(head.method) == methods
    for agg in TINY["aggregations"]:
        sub = head[head.aggregation == agg]
        assert set(sub.method) == methods - ({"nsga2"} if agg != "max" else set())
    assert head.worst_network_loss_x.notna().all()  # filled for every row
    # infinite (a median over seeds) only where seeds' chips cannot run every network: at
    # most the largest network's chip here, where resnet18's chips may not hold alexnet's
    # weights (whether a seed's search lands on such a chip depends on its draws)
    inf = ~np.isfinite(head.worst_network_loss_x)
    assert (head.feasible_seeds[inf] < head.seeds[inf]).all()
    assert set(head.method[inf]) <= {"largest"}
    assert (head.worst_network_loss_x >= 1 - 1e-9).all()  # nothing beats its own optimum
    ex = head[head.method == "exhaustive"].set_index("aggregation").objective_median
    for r in head[head.method != "separate"].itertuples():  # nothing beats the optimum
        assert r.objective_median >= ex[r.aggregation] * (1 - 1e-9)


def test_losses_are_edap_over_the_reference(study: Path) -> None:
    """Each loss factor in the report, recomputed from the EDAP in the run's own best.json
    and the reference: the group's optima stored in study.json, lowered to the best EDAP
    any run met on each network."""
    ref = _reference(study)
    for run in (study / "runs").iterdir():
        b = json.loads((run / "best.json").read_text())
        for w, v in b["optima"]["workloads"].items():
            ref[w] = min(ref[w], v["edap_j_s_mm2"])
    refs = pd.read_csv(study / "report" / "references.csv").set_index("workload")
    for w in NETS:
        assert refs.loc[w, "best_edap_j_s_mm2"] == pytest.approx(ref[w], rel=1e-12)
        assert refs.loc[w, "source"] == "best-known"
    nl = pd.read_csv(study / "report" / "network_losses.csv")
    for r in nl.itertuples():
        if r.method == "separate":
            continue
        rec = json.loads((study / "runs" / r.cell / "best.json").read_text())["best"][0]
        assert rec["key"] == r.key
        edap = rec["workloads"][r.workload]["edap_j_s_mm2"]
        assert r.loss_x == pytest.approx(edap / ref[r.workload], rel=1e-12)
    worst = nl.groupby(["aggregation", "method"]).loss_x.max()
    per = nl.groupby(["aggregation", "method"]).worst_network_loss_x.first()
    np.testing.assert_allclose(worst.to_numpy(), per.reindex(worst.index).to_numpy())


def test_separate_is_one_chip_per_network(study: Path) -> None:
    chips = pd.read_csv(study / "report" / "best_designs.csv")
    sep = chips[chips.method == "separate"]
    assert (sep.chips == 2).all()
    for _, r in sep.iterrows():
        own = json.loads((study / "runs" / r.cell / "best.json").read_text())[
            "per_workload_best"]
        assert r.area_mm2 == pytest.approx(sum(own[w]["area_mm2"] for w in NETS))
        assert r.cost_usd == pytest.approx(sum(own[w]["cost_usd"] for w in NETS))
        for w in NETS:  # each network on its own chip: the EDAP there
            assert r[f"edap.{w}"] == pytest.approx(own[w]["workloads"][w]["edap_j_s_mm2"])


def test_worst_regret_cells_minimise_the_worst_loss(study: Path) -> None:
    ref = _reference(study)
    for run in (study / "runs").iterdir():
        if "-worst_regret-" not in run.name or "-separate-" in run.name:
            continue
        b = json.loads((run / "best.json").read_text())["best"]
        for r in b:  # the objective: max over networks of EDAP / the study's reference
            want = max(r["workloads"][w]["edap_j_s_mm2"] / ref[w] for w in NETS)
            assert r["fitness"] == pytest.approx(want, rel=1e-12)
        assert [r["fitness"] for r in b] == sorted(r["fitness"] for r in b)


def test_generality_front_is_non_dominated_in_its_two_axes(study: Path) -> None:
    front = pd.read_csv(study / "report" / "generality_front_rram_two.csv")
    assert front.pareto.any()
    pts = front[["worst_network_loss_x", "max_edap_j_s_mm2"]].to_numpy()
    for i, p in enumerate(pts):  # brute force: dominated iff another is <= in both, < in one
        dominated = any(np.all(q <= p) and np.any(q < p) for j, q in enumerate(pts) if j != i)
        assert front.pareto[i] == (not dominated)
    el = pd.read_csv(study / "report" / "energy_latency_front_rram_two.csv")
    e = el[["energy_j", "latency_s"]].to_numpy()
    assert not any(np.all(q <= p) and np.any(q < p) for p in e for q in e)


def test_report_needs_only_what_a_default_run_writes(study: Path, tmp_path: Path) -> None:
    """Without any design table (kept_designs.csv.gz: a run that keeps only its best designs
    and front), the headline, the loss tables and the fronts come out the same from
    best.json/pareto.csv."""
    copy = tmp_path / "light"
    shutil.copytree(study, copy, ignore=shutil.ignore_patterns("report", "*.sqlite"))
    for run in (copy / "runs").iterdir():
        (run / "kept_designs.csv.gz").unlink()
        (run / "checksums.json").unlink()
        write_manifest(run, [p for p in run.iterdir() if p.suffix in (".json", ".csv")])
    build_report(copy)
    for name in ("headline.csv", "network_losses.csv", "generality_points.csv",
                 "generality_front_rram_two.csv", "references.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(copy / "report" / name),
                                      pd.read_csv(study / "report" / name), check_exact=False)
    assert (copy / "report" / "energy_latency_front_rram_two.csv").exists()


def test_report_errors(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"no study\.json"):
        build_report(tmp_path)
    r = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert r.exit_code == 2


def test_pareto_mask() -> None:
    p = np.array([[1, 1, 1], [2, 2, 2], [0, 3, 1], [1, 1, 1.5], [3, 0, 0]], dtype=float)
    assert pareto_mask(p).tolist() == [True, False, True, False, True]


# runs after load in a copy of the page (the page itself stays script-free): how many images
# decoded, the page's width against the window's, and table cells taller than one line
PROBE = ("<script>window.addEventListener('load',function(){var im=document.images,ok=0;"
         "for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0)ok++;}"
         "var b=document.body.dataset,d=document.documentElement,tall=0,"
         "td=document.querySelectorAll('td,th');"
         "for(var j=0;j<td.length;j++){if(td[j].getClientRects().length>1||"
         "td[j].offsetHeight>30)tall++;}"
         "b.images=im.length;b.imagesLoaded=ok;b.pageWidth=d.scrollWidth;"
         "b.windowWidth=window.innerWidth;b.tallCells=tall;b.cells=td.length;"
         "});</script>")


def chromium(page: Path, profile: Path, *extra: str) -> str:
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", f"--user-data-dir={profile}", "--window-size=1280,2000", *extra,
           page.resolve().as_uri()]
    return subprocess.run(cmd, check=True, timeout=120, capture_output=True, text=True).stdout


def probe_page(index: Path, profile: Path) -> dict[str, int]:
    """Load a copy of the page with `PROBE` in headless Chromium at 1,280 px; its numbers."""
    probe = index.parent / "_probe.html"
    probe.write_text(index.read_text().replace("</body>", PROBE + "</body>"))
    try:
        dom = chromium(probe, profile, "--virtual-time-budget=10000", "--dump-dom")
    finally:
        probe.unlink()
    found = dict(re.findall(r'data-([a-z-]+)="(\d+)"', dom))
    assert "page-width" in found, "the page's probe did not run"
    return {k: int(v) for k, v in found.items()}


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed")
def test_page_fits_a_1280_px_window_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    shot = report.parent / "screenshot.png"  # kept next to the page as a test artifact
    chromium(report, tmp_path / "profile", f"--screenshot={shot}")
    assert shot.stat().st_size > 10_000
    n = probe_page(report, tmp_path / "profile")
    assert n["images"] > 0 and n["images-loaded"] == n["images"]
    assert n["window-width"] == 1280
    assert n["page-width"] <= n["window-width"]  # wide tables scroll in their own box
    assert n["cells"] > 100 and n["tall-cells"] == 0  # keys and numbers never wrap


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed")
def test_a_page_without_the_boxes_would_be_wider(report: Path, tmp_path: Path) -> None:
    """The width check can fail: the same page without the scroll boxes is wider."""
    bare = report.parent / "bare.html"
    bare.write_text(report.read_text().replace(".tbl{overflow-x:auto;", ".tbl{"))
    try:
        n = probe_page(bare, tmp_path / "profile")
    finally:
        bare.unlink()
    assert n["page-width"] > n["window-width"]


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
    assert "The winner" in page and "convergence.png" in page and "energy_latency.png" in page
    best = pd.read_csv(out / "report" / "best_designs.csv")
    assert len(best) == 4 and best["fitness"].is_monotonic_increasing
    names = res.evaluator.workload_names
    # parameter columns, per-network energy, latency, EDAP and loss factor
    assert {"rows_per_array", "adc_type", *[f"energy_j.{w}" for w in names],
            *[f"latency_s.{w}" for w in names], *[f"loss_x.{w}" for w in names]} <= set(best)
    assert (best[[f"loss_x.{w}" for w in names]] >= 1 - 1e-12).all().all()
    assert np.allclose(best.worst_network_loss_x, best[[f"loss_x.{w}" for w in names]].max(axis=1))
    front = pd.read_csv(out / "report" / "energy_latency_front.csv")
    designs = pd.read_csv(out / "kept_designs.csv.gz")
    assert 0 < len(front) <= designs["feasible"].sum()
    # with every design saved the report draws them all, and finds the same front
    everything = tmp_path / "everything"
    write_results(res, everything, save_all=True)
    r = CliRunner().invoke(app, ["report", str(everything)])
    assert r.exit_code == 0, r.output
    assert len(pd.read_parquet(everything / "designs.parquet")) == res.evaluator.n_evals
    pd.testing.assert_frame_equal(pd.read_csv(everything / "report" /
                                              "energy_latency_front.csv"), front)
    conv = pd.read_csv(out / "convergence.csv")
    assert list(dict.fromkeys(conv["search"])) == [*[f"separate:{w}" for w in names], "joint"]
    # a results file changed after the run: named, exit 2, no report over bad data
    (out / "kept_designs.csv.gz").write_text("key\nx\n")
    r = CliRunner().invoke(app, ["report", str(out)])
    assert r.exit_code == 2 and "kept_designs.csv.gz" in r.output
