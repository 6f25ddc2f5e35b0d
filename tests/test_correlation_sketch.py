"""The correlation score's sketch: unbiased, and its stated error covers the exact value."""

import numpy as np
import pytest

from genobench import kernels
from genobench.kernels import correlation


def mosaic(n: int, m: int, *, seed: int, founders: int = 12, block: int = 60,
           noise: float = 0.01) -> np.ndarray:
    """Dosages (n, m) whose haplotypes copy one of ``founders`` per block of SNPs: strong LD
    within blocks, none between them (the founders are shared by every call)."""
    panel = np.random.default_rng(99).random((founders, m)) < 0.4
    rng = np.random.default_rng(seed)
    choice = rng.integers(0, founders, (2 * n, -(-m // block)))
    haplotypes = panel[np.repeat(choice, block, axis=1)[:, :m], np.arange(m)]
    haplotypes ^= rng.random(haplotypes.shape) < noise
    return (haplotypes[0::2].astype(np.int8) + haplotypes[1::2]).astype(np.int8)


@pytest.fixture(scope="module")
def pair():
    return mosaic(500, 2400, seed=1), mosaic(400, 2400, seed=2, noise=0.05)


def test_small_sets_are_exact(pair):
    a, b = pair
    found = kernels.correlation_score_estimate(a, b)
    assert found.method == "exact" and found.standard_error == 0.0
    assert found.value == pytest.approx(kernels.correlation_score(a, b, method="exact"))
    assert found.describe(10) == "10 SNP pairs"


def test_sketch_is_within_its_stated_error(pair):
    a, b = pair
    exact = kernels.correlation_score(a, b, method="exact")
    sketch = kernels.correlation_score_estimate(a, b, method="sketch", rank=48, probes=64)
    assert sketch.method == "sketch" and 0 < sketch.standard_error < 0.02
    assert abs(sketch.value - exact) <= 4 * sketch.standard_error
    assert "+-" in sketch.describe(100) and "Hutch++" in sketch.describe(100)
    again = kernels.correlation_score_estimate(a, b, method="sketch", rank=48, probes=64)
    assert again == sketch  # a fixed seed: reproducible


def test_sketch_tells_lost_ld_from_kept_ld(pair):
    a, b = pair
    shuffled = np.random.default_rng(0).permuted(b, axis=0)  # each SNP shuffled apart
    kept = kernels.correlation_score(a, b, method="sketch")
    lost = kernels.correlation_score(a, shuffled, method="sketch")
    assert kept > 0.3 and abs(lost) < 0.05


def test_standardised_copy_or_chunks_agree(pair, monkeypatch):
    a, b = pair
    kept = kernels.correlation_score_estimate(a, b, method="sketch", rank=16, probes=16)
    monkeypatch.setattr(correlation, "KEEP_BYTES", 0)  # every pass standardises again
    again = kernels.correlation_score_estimate(a, b, method="sketch", rank=16, probes=16,
                                               snp_chunk=500)
    assert again.value == pytest.approx(kept.value, abs=1e-6)


def test_bad_method_is_refused(pair):
    with pytest.raises(ValueError, match="method must be"):
        kernels.correlation_score(*pair, method="fast")
