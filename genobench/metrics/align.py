"""Put genotypes read from different files on the same SNPs before they are compared.

A synthetic (or training) file made outside genobench may list its SNPs in another order,
carry extra ones, or name them differently. :func:`align_snps` matches each SNP of the real
data by id or, failing that, by chromosome and position, and returns the other set's dosages
on the real data's SNPs in the real data's order; a SNP of the real data it cannot find is an
error, as metrics on a partial panel would not be comparable.

Files from different sources (a sequencing centre's VCF, a synthetic set made elsewhere) go
through :func:`match_snps` instead: matched by chromosome, position and alleles, compared on
the SNPs they share, with REF/ALT swaps turned into 2 - x and everything left out counted.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..data import GenotypeData
from ..errors import DataError
from ..messages import Notice


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


# -- matching files on chromosome, position and alleles ---------------------------------------

#: Why a SNP of one file is left out of a comparison, in the order warnings list them.
REASONS = ("not in every file", "allele mismatch", "strand-ambiguous (A/T or C/G)",
           "indel or not a SNP", "several records at one position")
_COMPLEMENT = {"A": "T", "T": "A", "C": "G", "G": "C"}


@dataclasses.dataclass(frozen=True)
class VariantSet:
    """Genotypes read from one file with their allele letters.

    :ivar data: the genotypes; dosages count ``alleles[:, 1]``.
    :ivar alleles: str array (n_snps, 2): REF and ALT (for PLINK: allele 2 and allele 1).
    :ivar name: how warnings name the file (its path).
    :ivar option: the command-line option that gave it (``--synthetic``), for errors.
    """

    data: GenotypeData
    alleles: np.ndarray
    name: str
    option: str = ""

    @property
    def label(self) -> str:
        return f"{self.option} {self.name}".strip()


@dataclasses.dataclass(frozen=True)
class SnpMatch:
    """The outcome of :func:`match_snps`.

    :ivar sets: each input's individuals on the shared SNPs, in the first input's order, with
        dosages of the first input's ALT allele (a swapped file's dosages are 2 - x).
    :ivar left_out: per input name, {reason: SNPs of that file left out} (zero counts omitted).
    :ivar swapped: per input name, SNPs whose REF and ALT are the first input's ALT and REF.
    """

    sets: tuple
    left_out: dict
    swapped: dict

    def notices(self) -> list[Notice]:
        """One notice per file that lost SNPs or had alleles swapped."""
        found = []
        for name, reasons in self.left_out.items():
            parts = [f"{count} {reason}" for reason, count in reasons.items()]
            if self.swapped.get(name):
                parts.append(f"{self.swapped[name]} with REF/ALT swapped kept as 2 - x")
            if parts:
                found.append(Notice(name, "SNPs left out of the comparison: "
                                    + ", ".join(parts), sum(reasons.values())))
        return found


def _normalise(chromosomes) -> np.ndarray:
    """"chr7", "Chr7" and "7" alike: "7"."""
    return np.array([n[3:] if n[:3].lower() == "chr" and len(n) > 3 else n
                     for n in np.asarray(chromosomes).astype(str).tolist()], dtype=str)


def _classify(variants: VariantSet):
    """Keys (chromosome:position), upper-case alleles and the reason each SNP is unusable
    ("" when usable): indels and other non-SNPs, strand-ambiguous pairs, repeated positions."""
    data, alleles = variants.data, np.char.upper(np.asarray(variants.alleles, dtype=str))
    if alleles.shape != (data.n_snps, 2):
        raise DataError(f"{variants.name}: alleles of shape {alleles.shape}, expected "
                        f"({data.n_snps}, 2)")
    keys = np.char.add(np.char.add(_normalise(data.chromosomes), ":"),
                       data.positions.astype(str))
    ref, alt = alleles[:, 0], alleles[:, 1]
    snv = np.isin(ref, list(_COMPLEMENT)) & np.isin(alt, list(_COMPLEMENT)) & (ref != alt)
    ambiguous = snv & (np.array([_COMPLEMENT.get(r, "") for r in ref.tolist()]) == alt)
    values, counts = np.unique(keys, return_counts=True)
    repeated = np.isin(keys, values[counts > 1])
    reason = np.full(data.n_snps, "", dtype=object)
    reason[~snv] = REASONS[3]
    reason[snv & ambiguous] = REASONS[2]
    reason[repeated] = REASONS[4]
    return keys, ref, alt, reason


def match_snps(reference: VariantSet, *others: VariantSet, strict: bool = False) -> SnpMatch:
    """Put ``reference`` and ``others`` on the SNPs they all share, in ``reference``'s order.

    A SNP is shared when every file has a record at its chromosome (``chr7`` and ``7`` alike)
    and position with the same two alleles: in the same order, or with REF and ALT swapped,
    in which case that file's dosages become 2 - x, so every set counts ``reference``'s ALT
    allele. Left out, and counted per file and reason (:data:`REASONS`): SNPs missing from
    any file, allele mismatches, strand-ambiguous SNPs (A/T, C/G: a swap cannot be told from
    a strand flip), indels and other non-SNPs, and positions with several records
    (multi-allelic sites split over records).

    :param strict: refuse (:class:`DataError`) when any SNP of ``reference`` is left out.
    :raises DataError: no SNP shared; with ``strict``, any SNP of ``reference`` left out.
    """
    sets = (reference, *others)
    classified = [_classify(v) for v in sets]
    ref_keys, ref_ref, ref_alt, ref_reason = classified[0]
    shared = ref_reason == ""
    status = []  # per other: (index into it or -1, swapped, mismatched) on reference SNPs
    lacking = []  # per other: usable reference SNPs it does not have with matching alleles
    for (keys, ref, alt, reason) in classified[1:]:
        usable = np.flatnonzero(reason == "")
        index = _lookup(ref_keys, keys[usable])
        index = np.where(index >= 0, usable[np.maximum(index, 0)], -1)
        found = index >= 0
        o_ref = np.where(found, ref[np.maximum(index, 0)], "")
        o_alt = np.where(found, alt[np.maximum(index, 0)], "")
        same = found & (o_ref == ref_ref) & (o_alt == ref_alt)
        swapped = found & (o_ref == ref_alt) & (o_alt == ref_ref)
        mismatched = found & ~same & ~swapped
        status.append((index, swapped, mismatched))
        lacking.append(int(((ref_reason == "") & ~(same | swapped)).sum()))
        shared &= same | swapped
    if not shared.any():
        raise DataError(f"{' and '.join(v.label for v in sets)}: no SNP in common (matched by "
                        "chromosome, position and alleles)")
    rows = np.flatnonzero(shared)
    left_out, swaps = {}, {}
    # the reference: its own unusable SNPs, then mismatches, then SNPs another file lacks
    reasons = {r: int((ref_reason == r).sum()) for r in REASONS[2:]}
    mismatch = np.zeros(shared.size, bool)
    for _, _, mismatched in status:
        mismatch |= mismatched
    reasons[REASONS[1]] = int((mismatch & (ref_reason == "")).sum())
    reasons[REASONS[0]] = int((~shared & ~mismatch & (ref_reason == "")).sum())
    left_out[reference.name] = {r: reasons[r] for r in REASONS if reasons.get(r)}
    aligned = [reference.data.take_snps(rows)]
    for variants, (_, _, _, reason), (index, swapped, mismatched) in zip(
            others, classified[1:], status, strict=True):
        used = np.zeros(variants.data.n_snps, bool)
        used[index[rows]] = True
        matched_mismatch = np.zeros(variants.data.n_snps, bool)
        matched_mismatch[index[mismatched]] = True
        counts = {r: int((reason == r).sum()) for r in REASONS[2:]}
        counts[REASONS[1]] = int(matched_mismatch.sum())
        counts[REASONS[0]] = int((~used & ~matched_mismatch & (reason == "")).sum())
        left_out[variants.name] = {r: counts[r] for r in REASONS if counts.get(r)}
        swaps[variants.name] = int(swapped[rows].sum())
        dosages = variants.data.dosages[:, index[rows]]
        flip = swapped[rows]
        if flip.any():
            dosages = dosages.copy()
            dosages[:, flip] = 2 - dosages[:, flip]
        base = aligned[0]
        aligned.append(GenotypeData(dosages, base.positions, base.chromosomes, base.snp_ids,
                                    variants.data.sample_ids, variants.data.populations,
                                    variants.data.phenotypes))
    result = SnpMatch(tuple(aligned), left_out, swaps)
    if strict and left_out[reference.name]:
        m = reference.data.n_snps
        parts = ", ".join(f"{count} {reason}" for reason, count in
                          left_out[reference.name].items())
        hint = "; leave out --strict to compare on the shared SNPs"
        for variants, count in zip(others, lacking, strict=True):
            if count:
                raise DataError(f"{variants.label}: lacks {count} of the real data's {m} SNPs "
                                f"(real SNPs left out: {parts}){hint}")
        raise DataError(f"{reference.label}: {m - rows.size} of its {m} SNPs cannot be "
                        f"compared ({parts}){hint}")
    return result
