"""Design spaces, genomes and the reference key format."""

import csv
import gzip
from pathlib import Path

import numpy as np
import pytest

from imcopt.hardware import DesignError, designs_from_keys, get_space, hamming, parse_key

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


@pytest.mark.parametrize("name,size,n_var", [("rram_study", 12_096_000, 9),
                                             ("sram_study", 4_064_256, 8),
                                             ("sram_study4", 1_512_000, 8),
                                             ("rram", 12_096_000 * 900, 14),
                                             ("sram", 4_064_256 * 900, 13)])
def test_study_space_sizes(name, size, n_var):
    space = get_space(name)
    assert space.size == size
    assert space.n_var == n_var


def test_study_spaces_fix_the_published_circuit():
    """The study's spaces evaluate its CiMLoop circuit: 8-bit inputs as one pulse-count slice,
    every row read at once, a 5-bit flash ADC per column; the default spaces search it."""
    for name in ("rram_study", "sram_study", "sram_study4"):
        d = get_space(name).decode(get_space(name).sample(3, 0))
        assert set(d["dac_bits"]) == {8} and set(d["input_encoding"]) == {3}
        assert set(d["adc_bits"]) == {5} and set(d["cols_per_adc"]) == {1}
        assert set(d["parallel_rows"]) == {4096} and set(d["adc_type"]) == {2}
    assert {"parallel_rows", "adc_bits", "cols_per_adc", "dac_bits"} <= set(
        get_space("rram").names)


def test_levels_of_rram():
    levels = get_space("rram").levels()
    assert levels["device"] == ("bits_per_cell",)
    assert levels["circuit"] == ("rows_per_array", "cols_per_array", "parallel_rows", "adc_bits",
                                 "cols_per_adc", "dac_bits", "adc_type")
    assert levels["system"] == ("voltage_v", "clock_period_s")
    assert len(levels["architecture"]) == 4


def test_key_round_trip_of_study_design():
    key = "A_0.6_8_1e-09_512_32_8_64_32_4096"
    d = designs_from_keys([key])
    assert d.keys() == [key]
    space = get_space("rram_study")
    g = space.genomes_from_keys([key])
    assert space.keys(g) == [key]
    assert parse_key(key)["glb_depth_words"] == 4096


def test_sram_keys_carry_one_bit_per_cell():
    space = get_space("sram_study")
    keys = space.keys(space.sample(5, 1))
    assert all(k.split("_")[2] == "1" for k in keys)
    assert space.keys(space.genomes_from_keys(keys)) == keys


def test_every_reference_key_round_trips():
    path = REFERENCE / "cimloop_results.csv.gz"
    if not path.is_file():
        pytest.skip(f"reference data not found at {path}")
    with gzip.open(path, "rt") as fh:
        keys = sorted({row["design_key"] for row in csv.DictReader(fh)})
    d = designs_from_keys(keys)
    plain, with_node = d.keys(), d.keys(with_node=True)
    for i, key in enumerate(keys):
        assert key == (with_node[i] if len(key.split("_")) == 11 else plain[i])


def test_decode_encode_and_sampling():
    space = get_space("rram_study")
    g = space.sample(1000, 7)
    assert g.shape == (1000, 9)
    assert (g >= 0).all() and (g < space.cardinalities).all()
    d = space.decode(g)
    np.testing.assert_array_equal(space.encode(d.values), g)
    assert set(np.unique(d["rows_per_array"])) <= {32, 64, 128, 256, 512}


def test_all_genomes_enumerates_in_mixed_radix_order():
    space = get_space("rram_study").restrict(voltage_v=(0.5, 0.6), bits_per_cell=(1, 2, 4),
                                       clock_period_s=(1e-9,), rows_per_array=(64,),
                                       cols_per_array=(64, 128), router_groups=(1,),
                                       tiles_per_group=(4,), arrays_per_tile=(4,),
                                       glb_depth_words=(4096,))
    allg = space.all_genomes()
    assert len(allg) == space.size == 12
    assert len({tuple(r) for r in allg}) == 12
    np.testing.assert_array_equal(space.all_genomes(5, 7), allg[5:7])


def test_hamming():
    a = np.array([0, 1, 2, 3])
    b = np.array([[0, 1, 2, 3], [1, 1, 2, 0]])
    assert list(hamming(a, b)) == [0, 2]


@pytest.mark.parametrize("key,field", [
    ("A_1_2", "must look like"),
    ("B_0.6_8_1e-09_512_32_8_64_32_4096", "must look like"),
    ("A_x_8_1e-09_512_32_8_64_32_4096", "voltage_v"),
    ("A_0.6_8_1e-09_512.5_32_8_64_32_4096", "rows_per_array"),
    ("A_0.6_8_1e-09_-512_32_8_64_32_4096", "rows_per_array"),
    ("A_0.6_8_nan_512_32_8_64_32_4096", "clock_period_s"),
])
def test_bad_keys_name_the_field(key, field):
    with pytest.raises(DesignError, match=field):
        parse_key(key)


def test_values_outside_the_space_are_named():
    space = get_space("rram_study")
    with pytest.raises(DesignError, match="rows_per_array = 100 is not in the space"):
        space.encode({**{p.name: p.values[0] for p in space.parameters}, "rows_per_array": 100})
    with pytest.raises(DesignError, match="outside"):
        space.decode(np.array([[0, 0, 0, 0, 0, 0, 0, 0, 99]]))


def test_restrict_and_unknown_parameter():
    space = get_space("rram_study").restrict(bits_per_cell=(2, 4), adc_bits=(4, 5, 6))
    assert space.parameter("bits_per_cell").values == (2, 4)
    assert space.names[-1] == "adc_bits"
    assert space.size == 12_096_000 // 8 * 2 * 3
    with pytest.raises(DesignError, match="did you mean rows_per_array"):
        get_space("rram_study").restrict(rows_per_aray=(32,))
    with pytest.raises(DesignError, match="Known: rram, sram"):
        get_space("rrom")
