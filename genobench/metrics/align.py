"""Put genotypes read from different files on the same SNPs before they are compared.

A synthetic (or training) file made outside genobench may list its SNPs in another order,
carry extra ones, or name them differently. :func:`align_snps` matches each SNP of the real
data by id or, failing that, by chromosome and position, and returns the other set's dosages
on the real data's SNPs in the real data's order; a SNP of the real data it cannot find is an
error, as metrics on a partial panel would not be comparable.
"""

from __future__ import annotations

import numpy as np

from ..data import GenotypeData
from ..errors import DataError


def _lookup(reference: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Index in ``keys`` of each value of ``reference``, -1 where absent (keys unique)."""
    order = np.argsort(keys, kind="stable")
    where = np.searchsorted(keys, reference, sorter=order)
    where = np.minimum(where, max(len(keys) - 1, 0))
    found = order[where] if len(keys) else np.zeros(len(reference), dtype=np.int64)
    hit = (keys[found] == reference) if len(keys) else np.zeros(len(reference), dtype=bool)
    return np.where(hit, found, -1)


def _position_keys(data: GenotypeData) -> np.ndarray:
    return np.char.add(np.char.add(data.chromosomes.astype(str), ":"),
                       data.positions.astype(str))


def align_snps(real: GenotypeData, other: GenotypeData, *, what: str = "synthetic data") \
        -> tuple[GenotypeData, str]:
    """``other``'s individuals on ``real``'s SNPs, in ``real``'s order.

    SNPs are matched by id when every real id is found in ``other``; otherwise by
    (chromosome, position) when every real SNP's position is found (a position carried by
    several SNPs of ``other`` cannot be matched that way). SNPs only ``other`` has are left
    out.

    :param what: how messages name ``other`` (``"--synthetic data.vcf"``).
    :returns: (aligned data, "id" or "position": how the SNPs were matched). The aligned data
        keeps ``other``'s samples and ``real``'s SNP annotations.
    :raises DataError: no SNP in common, or some real SNPs missing from ``other``.
    """
    m = real.n_snps
    by_id = _lookup(real.snp_ids, other.snp_ids)
    how, index = "id", by_id
    if (by_id < 0).any():
        keys = _position_keys(other)
        unique, counts = np.unique(keys, return_counts=True)
        by_position = _lookup(_position_keys(real), keys)
        ambiguous = np.isin(_position_keys(real), unique[counts > 1])
        by_position[ambiguous] = -1
        how, index = "position", by_position
        if (by_position < 0).any():
            found_id, found_position = int((by_id >= 0).sum()), int((by_position >= 0).sum())
            if found_id == 0 and found_position == 0:
                raise DataError(f"{what}: no SNP in common with the real data (matched by id or "
                                "by chromosome and position)")
            best = by_id if found_id >= found_position else by_position
            missing = np.flatnonzero(best < 0)
            first = missing[0]
            raise DataError(
                f"{what}: lacks {missing.size} of the real data's {m} SNPs (found {found_id} by "
                f"id, {found_position} by chromosome and position), e.g. "
                f"{real.snp_ids[first]} at {real.chromosomes[first]}:{real.positions[first]}")
    aligned = GenotypeData(other.dosages[:, index], real.positions, real.chromosomes,
                           real.snp_ids, other.sample_ids, other.populations, other.phenotypes)
    return aligned, how
