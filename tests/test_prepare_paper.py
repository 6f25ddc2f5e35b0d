"""Preparing a simulated suite in bounded memory (genobench/suites.py materialize through
``StdpopsimSource.load_sites``): the panel and the causal sites are the only sites decoded, and
the splits, phenotypes and truth are those of full decoding, byte for byte."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import genobench.sources.simulated as simulated
from genobench.sources.simulated import StdpopsimSource
from genobench.suites import SPLITS, materialize, parse_spec

# Two pieces of a BosTau slice (the per-piece bookkeeping), a coin-flip covariate and a
# quantitative trait whose causal variants are drawn among every site above min_maf.
COW = textwrap.dedent("""\
    name = "cow_slice"
    seed = 11

    [source]
    kind = "stdpopsim"
    species = "BosTau"
    model = "HolsteinFriesian_1M13"
    chromosomes = ["25"]
    left = 1_000_000
    right = 3_000_000
    chunk = 1_000_000
    min_maf = 0.01
    samples = { Holstein_Friesian = 100 }

    [panel]
    maf = 0.05
    n_snps = 150

    [[traits]]
    name = "sex"
    kind = "binary"

    [[traits]]
    name = "fat"
    n_causal = 12
    h2 = 0.5
    effects = "laplace"
    alpha = -0.25
    covariates = { sex = 0.1 }
""")

# Three populations, every segregating site (no min_maf), a density panel, a liability trait.
HUMAN = textwrap.dedent("""\
    name = "human_slice"
    seed = 5

    [source]
    kind = "stdpopsim"
    species = "HomSap"
    model = "OutOfAfrica_3G09"
    chromosomes = ["chr22"]
    left = 30_000_000
    right = 30_500_000
    samples = { CEU = 40, YRI = 20, CHB = 20 }

    [panel]
    maf = 0.02
    density = 300

    [[traits]]
    name = "disease"
    kind = "binary"
    n_causal = 8
    h2 = 0.4
    prevalence = 0.2
""")


def _prepared(text, tmp_path, monkeypatch, cache):
    monkeypatch.setenv("GENOBENCH_CACHE", str(tmp_path / cache))
    return materialize(parse_spec(text, size=None), refresh=True)


@pytest.mark.parametrize("text", [COW, HUMAN], ids=["cow_two_pieces", "human_three_pops"])
def test_suite_from_site_counts_is_the_suite_of_full_decoding(text, tmp_path, monkeypatch):
    counted = _prepared(text, tmp_path, monkeypatch, "counted")
    with monkeypatch.context() as patch:  # a source without load_sites decodes every site
        patch.delattr(StdpopsimSource, "load_sites")
        decoded = _prepared(text, tmp_path, monkeypatch, "decoded")
    for name in SPLITS:
        a, b = getattr(counted, name), getattr(decoded, name)
        assert a.dosages.dtype == np.int8
        for field in ("dosages", "positions", "chromosomes", "snp_ids", "sample_ids",
                      "populations"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
        assert a.trait_names == b.trait_names
        np.testing.assert_array_equal(a.phenotypes.to_numpy(), b.phenotypes.to_numpy())
    strip = ("seconds", "cache_key", "cached")
    assert ({k: v for k, v in counted.info.items() if k not in strip}
            == {k: v for k, v in decoded.info.items() if k not in strip})
    counted_files = next((tmp_path / "counted").iterdir())
    decoded_files = next((tmp_path / "decoded").iterdir())
    for name in SPLITS:  # the cache files themselves: nothing to invalidate
        assert ((counted_files / f"{name}.npz").read_bytes()
                == (decoded_files / f"{name}.npz").read_bytes())


def test_only_the_panel_and_the_causal_sites_are_decoded(tmp_path, monkeypatch):
    decoded = []

    def counting(ts, site_ids, **kwargs):
        decoded.append(len(site_ids))
        return decode(ts, site_ids, **kwargs)

    def forbidden(*args, **kwargs):
        raise AssertionError("every site decoded")

    decode = simulated.decode_sites
    monkeypatch.setattr(simulated, "decode_sites", counting)
    monkeypatch.setattr(simulated, "tree_sequence_dosages", forbidden)
    suite = _prepared(COW, tmp_path, monkeypatch, "cache")
    n_causal = sum(t["n_causal"] for t in suite.info["traits"].values())
    assert suite.train.n_snps == 150
    assert sum(decoded) == suite.train.n_snps + n_causal
