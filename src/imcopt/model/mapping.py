"""Weight-stationary mapping of layers onto crossbar arrays, vectorised over designs.

Shapes: design columns (N, 1), layer rows (1, L), results (N, L).

A layer's weights form, per group, a K x (M * slices) block (K = C*R*S reduction rows,
M outputs, each weight split into ``slices = ceil(weight_bits / bits_per_cell)`` columns).
A block larger than an array is tiled into row tiles x column tiles; blocks smaller than an
array are packed block-diagonally, several groups per array (depthwise convolutions).
One *copy* of a layer is the set of arrays that hold all its weights once; copies run
concurrently on different input vectors (output positions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .xp import array_namespace


def ceil_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return array_namespace(a, b).ceil(a / b)


@dataclass
class Mapping:
    """Per (design, layer) mapping figures; see module docstring."""

    slices: np.ndarray  # weight column slices per weight
    row_tiles: np.ndarray  # arrays along the reduction (partial sums to add)
    col_tiles: np.ndarray  # arrays along the outputs
    arrays_per_copy: np.ndarray  # arrays one copy of the weights occupies
    weight_cells: np.ndarray  # cells one copy occupies (exact, no padding)
    copies: np.ndarray  # concurrent copies of the layer's weights
    chunks: np.ndarray  # sequential passes when one copy does not fit the chip
    serial_steps: np.ndarray  # input vectors processed one after another


def map_layers(
    *,
    rows: np.ndarray,
    cols: np.ndarray,
    arrays: np.ndarray,
    bits_per_cell: np.ndarray,
    G: np.ndarray,
    K: np.ndarray,
    M: np.ndarray,
    steps: np.ndarray,
    weight_bits: np.ndarray,
    resident: bool,
    replicate_whole_chip: bool,
    pack_groups: bool = True,
    max_copies: int | None = None,
    balance_pipeline: bool = False,
    output_rows: np.ndarray | None = None,
    counts: np.ndarray | None = None,
) -> tuple[Mapping, np.ndarray]:
    """Map every weight layer of a workload onto every design.

    resident: all layers' weights stay on chip together (RRAM); otherwise each layer's
      weights are brought in (streamed) when it runs and may use the whole chip.
    replicate_whole_chip: every layer may replicate over all arrays of the chip, as if the
      other layers' weights took no room (CiMLoop evaluates layers one at a time this way);
      otherwise a resident design replicates only into the arrays the weights leave free.
    pack_groups: several small groups share an array block-diagonally; otherwise every
      group takes arrays of its own (as CiMLoop maps depthwise convolutions).
    max_copies: the most copies of a layer's weights (a mapping choice of the network;
      1 = no replication); None = as many as fit.
    balance_pipeline: a resident design's spare arrays go where they shorten the slowest
      layer (layers run as a pipeline: minimise max steps / copies, copies ~ steps), not the
      sum of the layers' times (layers run one after another: copies ~ sqrt(steps / apc)).
    output_rows: when given (the layers' output rows P, (1, L)), copies split only the output
      rows: at most P copies, each taking ceil(P / copies) rows and every output column and
      batch item (a mapper whose buffer loops over all output columns, as the study's SRAM
      runs constrain theirs); otherwise copies split all of N P Q.
    counts: (1, L) how often each layer occurs in the network (None: once each); sums over
      the layers (the arrays all weights need, the spare arrays' split) weigh them.
    Returns the mapping and the arrays one resident copy of all weights needs (N, 1).
    """
    xp = array_namespace(rows)
    slices = ceil_div(weight_bits, bits_per_cell)
    wcols = M * slices
    row_tiles = ceil_div(K, rows)
    col_tiles = ceil_div(wcols, cols)
    tiles = row_tiles * col_tiles
    fits_one = tiles == 1
    groups_per_array = xp.where(
        fits_one, xp.maximum(xp.minimum(rows // K, cols // wcols), 1.0), 1.0)
    packed = ceil_div(G, groups_per_array) * tiles
    # capacity always counts packed groups: that is how the weights can be stored
    times = 1.0 if counts is None else counts
    required = (packed * times).sum(axis=1, keepdims=True)
    arrays_per_copy = packed if pack_groups else G * tiles
    weight_cells = G * K * wcols

    if resident and not replicate_whole_chip:
        # the arrays left free hold replicas; minimising sum(steps / copies) subject to
        # sum(copies * arrays_per_copy) <= spare gives copies ~ sqrt(steps / arrays_per_copy)
        spare = xp.maximum(arrays - required, 0.0)
        if balance_pipeline:
            # minimising max(steps / copies) subject to the same budget: copies ~ steps
            norm = (steps * arrays_per_copy * times).sum(axis=1, keepdims=True)
            copies = 1.0 + xp.floor(spare * steps / norm)
        else:
            norm = (xp.sqrt(steps * arrays_per_copy) * times).sum(axis=1, keepdims=True)
            copies = 1.0 + xp.floor(spare * xp.sqrt(steps / arrays_per_copy) / norm)
        chunks = xp.ones_like(copies)
    else:
        copies = xp.maximum(xp.floor(arrays / arrays_per_copy), 1.0)
        chunks = xp.maximum(ceil_div(arrays_per_copy, arrays), 1.0)
    copies = xp.minimum(copies, steps)
    if max_copies is not None:
        copies = xp.minimum(copies, float(max_copies))
    if output_rows is not None:
        rows_per_copy = ceil_div(output_rows, xp.minimum(copies, output_rows))
        copies = ceil_div(output_rows, rows_per_copy)
        serial_steps = rows_per_copy * (steps / output_rows) * chunks
    else:
        serial_steps = xp.ceil(steps / copies) * chunks
    return Mapping(slices, row_tiles, col_tiles, arrays_per_copy, weight_cells, copies, chunks,
                   serial_steps), required


def limit_copies(mp: Mapping, cap: np.ndarray, steps: np.ndarray) -> Mapping:
    """The mapping with at most `cap` copies of each layer (at least one)."""
    xp = array_namespace(mp.copies)
    copies = xp.maximum(xp.minimum(mp.copies, cap), 1.0)
    return Mapping(mp.slices, mp.row_tiles, mp.col_tiles, mp.arrays_per_copy, mp.weight_cells,
                   copies, mp.chunks, xp.ceil(steps / copies) * mp.chunks)


def row_phases(K: np.ndarray, rows: np.ndarray, parallel_rows: np.ndarray) -> np.ndarray:
    """Reads of one array per input slice: the rows a layer uses in an array (all of them,
    or K when the reduction is shorter) activated `parallel_rows` at a time."""
    xp = array_namespace(K, rows)
    return xp.ceil(xp.minimum(K, rows) / xp.minimum(parallel_rows, rows))


def router_group_share(groups: np.ndarray, dims: tuple[np.ndarray, ...]) -> np.ndarray:
    """Router groups a layer effectively runs on when the mapper splits one of its dimensions
    `dims` (e.g. output rows P, columns Q, channels M, groups G) over them: a dimension D over
    g groups leaves ceil(D / g) of it to each, so the layer goes as fast as on D / ceil(D / g)
    groups; the best dimension wins. 6 groups run a 14 x 14 x 64 layer as 64 / 11 = 5.8 groups,
    one with M = 192 as 6. Broadcasts (N, 1) groups against (1, L) dimensions -> (N, L)."""
    xp = array_namespace(groups)
    share = xp.ones_like(groups * dims[0])
    for extent in dims:
        share = xp.maximum(share, extent / xp.ceil(extent / groups))
    return share


def input_destinations(groups: np.ndarray, layer: dict[str, np.ndarray]) -> np.ndarray:
    """Router groups each input bit goes to when the mapper splits one dimension over the
    groups (`router_group_share`): splitting output channels M leaves every group needing
    every input, so M's share of groups receive each bit; splitting output rows P, columns Q
    or groups G gives each group its own slice of the inputs (halo neglected), so one does.
    M wins only where its share beats the others' (ties keep the input slices). (N, L)."""
    xp = array_namespace(groups)
    sliced = router_group_share(groups, (layer["P"], layer["Q"], layer["G"]))
    by_channels = router_group_share(groups, (layer["M"],))
    return xp.where(by_channels > sliced, by_channels, 1.0)


def reference_layer_arrays(router_groups: np.ndarray, tiles_per_group: np.ndarray,
                           arrays_per_tile: np.ndarray, layer: dict[str, np.ndarray]) -> np.ndarray:
    """Arrays a layer runs on under the reference's mapper: its share of the router groups
    (`router_group_share` over P, Q, M and G) times the arrays under one group. (N, L)."""
    share = router_group_share(router_groups, (layer["P"], layer["Q"], layer["M"], layer["G"]))
    return share * tiles_per_group * arrays_per_tile
