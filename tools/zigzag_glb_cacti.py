"""Writes src/imcopt/data/zigzag_glb_cacti.csv: CACTI's read/write energy and area of the
global buffer sizes of imcopt's SRAM space, for the `zigzag` backend's accelerator files.

ZigZag takes memory costs from its user (or from the CACTI 7 build it ships, through a shared
cache file inside its installed package, which parallel runs would race on). So the costs are
computed once here, with that same CACTI (28 nm, one read and one write port, a 2048-bit bus:
imcopt's GLB word), and stored as a table; `imcopt.backends.zigzag_inputs` interpolates it
(log-log) for sizes between the rows. Needs the zigzag extra (`pip install 'imcopt[zigzag]'`).

    python tools/zigzag_glb_cacti.py            # rewrite the table
    python tools/zigzag_glb_cacti.py --check    # recompute and compare, write nothing
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "src" / "imcopt" / "data" / "zigzag_glb_cacti.csv"
MIB = 2**20
SIZES_BYTES = [MIB // 4, MIB // 2, *(MIB * 2**k for k in range(8))]  # 256 KiB .. 128 MiB
BUS_BITS = 2048
TECHNOLOGY_UM = 0.028
COLUMNS = ["size_bytes", "bus_bits", "read_energy_pj", "write_energy_pj", "area_mm2"]


def cacti_rows() -> list[dict]:
    import zigzag

    master = Path(zigzag.__file__).parent / "cacti" / "cacti_master"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "cacti_master"  # CACTI runs in its folder: a private copy
        shutil.copytree(master, work, ignore=shutil.ignore_patterns("self_gen", "*.yaml"))
        pool = work / "pool.yaml"
        for size in SIZES_BYTES:
            pool.write_text("")
            subprocess.run([sys.executable, str(work / "cacti_top.py"), "--mem_type", "sram",
                            "--cache_size", str(size), "--IO_bus_width", str(BUS_BITS),
                            "--ex_rd_port", "1", "--ex_wr_port", "1", "--rd_wr_port", "0",
                            "--bank_count", "1", "--mem_pool_path", str(pool),
                            "--technology", str(TECHNOLOGY_UM)],
                           check=True, capture_output=True, cwd=work)
            (entry,) = yaml.safe_load(pool.read_text()).values()
            rows.append({"size_bytes": size, "bus_bits": BUS_BITS,
                         "read_energy_pj": round(entry["cost"]["read_word"] * 1e3, 4),
                         "write_energy_pj": round(entry["cost"]["write_word"] * 1e3, 4),
                         "area_mm2": round(entry["area"], 5)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the stored table")
    args = parser.parse_args()
    rows = cacti_rows()
    header = (f"# CACTI 7 of zigzag-dse {metadata.version('zigzag-dse')}, {TECHNOLOGY_UM * 1e3:g}"
              f" nm SRAM, 1 read + 1 write port, {BUS_BITS}-bit bus; energies per {BUS_BITS}-bit "
              "access; written by tools/zigzag_glb_cacti.py")
    if args.check:
        stored = [r for r in csv.DictReader(line for line in TABLE.read_text().splitlines()
                                            if not line.startswith("#"))]
        same = all(float(s[c]) == float(r[c]) for s, r in zip(stored, rows, strict=True)
                   for c in COLUMNS)
        print("table matches CACTI" if same else "table differs from CACTI")
        sys.exit(0 if same else 1)
    with TABLE.open("w", newline="") as f:
        f.write(header + "\n")
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    for r in rows:
        print(r)
    print(f"wrote {TABLE}")


if __name__ == "__main__":
    main()
