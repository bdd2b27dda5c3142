"""The report's HTML: a self-contained page (no scripts, no network) whose tables scroll
inside their own box, so the page is never wider than the window."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from ..losses import LOSS_PREFIX, WORST, format_factor
from ..storage import write_text

CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;
color:#222}h1,h2,h3,p,li,summary{overflow-wrap:anywhere}
.tbl{overflow-x:auto;max-width:100%;margin:.5em 0}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;
text-align:right;white-space:nowrap}th{background:#f3f3f3}td.l,th.l{text-align:left}
img{display:block;width:100%;height:auto;border:1px solid #eee}
h2{border-bottom:1px solid #ccc;margin-top:1.6em}.note{color:#555;font-size:13px}
details{margin:.4em 0}summary{cursor:pointer;font-weight:600}
.good{color:#1a7f1a;font-weight:600}.bad{color:#b00}"""


def is_loss(column: str) -> bool:
    return column.startswith((WORST, LOSS_PREFIX)) or column == "loss_x"


def fmt(v: object, column: str = "") -> str:
    """A table cell: loss factors as 1.46x, numbers to 4 significant digits."""
    if is_loss(column) and isinstance(v, (float, int, np.floating)) and not isinstance(v, bool):
        return html.escape(format_factor(float(v)))
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (float, np.floating)):
        return "infeasible" if not np.isfinite(v) else f"{v:.4g}"
    return html.escape(str(v))


def table(df: pd.DataFrame, left: int = 1) -> str:
    """The frame as an HTML table in its own horizontally scrolling box; the first `left`
    columns left-aligned; cells never wrap (keys stay whole)."""
    cols = [str(c) for c in df.columns]
    head = "".join(f"<th{' class=l' if i < left else ''}>{html.escape(c)}</th>"
                   for i, c in enumerate(cols))
    body = "".join("<tr>" + "".join(f"<td{' class=l' if i < left else ''}>{fmt(v, cols[i])}"
                                    "</td>" for i, v in enumerate(row)) + "</tr>"
                   for row in df.itertuples(index=False))
    return f"<div class=tbl><table><tr>{head}</tr>{body}</table></div>"


def img(path: Path, alt: str) -> str:
    return f'<p><img src="{html.escape(path.name)}" alt="{html.escape(alt)}"></p>'


def failures(n: int) -> str:
    cls = "bad" if n else "note"
    return (f"<p class={cls}>{n} evaluated designs failed (the model raised an error, or gave "
            "a non-finite or non-positive energy, latency or area): they are counted in each "
            "run's run.json (n_failed), kept with failed = True and their reason in its "
            "designs.parquet when the run keeps every design (`--save-all`), and never "
            "ranked.</p>")


def write_page(out: Path, title: str, parts: list[str]) -> Path:
    """out/index.html: the self-contained page (no scripts) holding the HTML `parts`."""
    page = ("<!doctype html><html><head><meta charset=utf-8><meta name=viewport "
            f"content='width=device-width,initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>" + "\n".join(parts) + "</body></html>")
    return write_text(out / "index.html", page)
