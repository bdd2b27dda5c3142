"""One ZigZag-IMC run: `python -m imcopt.backends.zigzag_run` reads a request (JSON on stdin,
written by `ZigZagBackend`), runs ZigZag and prints the `subprocess` protocol's answer
(energy_j, latency_s, area_mm2) plus ZigZag's own figures under "zigzag".

Request: {"accelerator": {...}, "mapping": [...], "layers": [...]  (ZigZag's schema, from
`zigzag_inputs.translate`), "dram_bits_per_s", "dram_energy_per_bit_pj", "design_period_s",
"clock": "max" | "zigzag" | "design", "lpf_limit", "spatial_mappings", "opt"}.

The clock (`zigzag_inputs.period_s`) depends on ZigZag's macro cycle time (tclk), and the
DRAM's bits per cycle on the clock, so the accelerator is parsed first for tclk, then the
DRAM port is sized and ZigZag runs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import tempfile
from pathlib import Path

import yaml


def _without_report_files() -> None:
    """ZigZag's VisualizationStage only writes report files (a memory-hierarchy PNG and a
    loop listing) into the dump folder, which this run deletes; the listing crashes on a
    layer with no temporal loop left (a layer the macros hold whole), so here the stage
    passes the results through and writes nothing."""
    from zigzag.stages.results.visualization import VisualizationStage

    def run(self):
        self.kwargs["dump_folder"] = self.dump_folder  # what the stage passes on downstream
        yield from self.list_of_callables[0](self.list_of_callables[1:], **self.kwargs).run()

    VisualizationStage.run = run


def run(request: dict, folder: Path) -> dict:
    from zigzag.api import get_hardware_performance_zigzag
    from zigzag.stages.parser.accelerator_parser import AcceleratorParserStage

    from .zigzag_inputs import ZigZagInputs, period_s

    _without_report_files()
    inputs = ZigZagInputs(request["accelerator"], request["mapping"], request["layers"],
                          request["dram_bits_per_s"], request["dram_energy_per_bit_pj"],
                          request["design_period_s"])
    accelerator = folder / "accelerator.yaml"
    accelerator.write_text(yaml.safe_dump(inputs.accelerator, sort_keys=False))
    tclk_s = AcceleratorParserStage.parse_accelerator(str(accelerator)).operational_array.tclk
    tclk_s *= 1e-9
    period = period_s(request["clock"], tclk_s, inputs.design_period_s)
    accelerator.write_text(yaml.safe_dump(inputs.with_clock(period), sort_keys=False))
    mapping = folder / "mapping.yaml"
    mapping.write_text(yaml.safe_dump(inputs.mapping, sort_keys=False))
    energy_pj, cycles, tclk_ns, area_mm2, _ = get_hardware_performance_zigzag(
        inputs.layers, str(accelerator), str(mapping), opt=request["opt"],
        dump_folder=str(folder / "out"), in_memory_compute=True,
        lpf_limit=int(request["lpf_limit"]),
        nb_spatial_mappings_generated=int(request["spatial_mappings"]),
        loma_show_progress_bar=False)
    return {"energy_j": energy_pj * 1e-12, "latency_s": cycles * period, "area_mm2": area_mm2,
            "zigzag": {"energy_pj": energy_pj, "latency_cycles": cycles, "tclk_ns": tclk_ns,
                       "period_s": period}}


def main() -> int:
    logging.basicConfig(level=logging.ERROR)  # before ZigZag's own INFO set-up, which then no-ops
    request = json.load(sys.stdin)
    with tempfile.TemporaryDirectory(prefix="imcopt-zigzag-") as tmp, \
            contextlib.redirect_stdout(sys.stderr):  # stdout carries the answer only
        answer = run(request, Path(tmp))
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
