"""Genotype files in and out: VCF/BCF, PLINK 1 binary (.bed/.bim/.fam) and phenotype tables.

Reading turns a file into a :class:`~genobench.data.GenotypeData` of alternate-allele dosages
(VCF: copies of the first ALT allele; PLINK: copies of allele 1, the 5th ``.bim`` column, which
PLINK 2 calls ALT). VCF/BCF is read with cyvcf2 (htslib), PLINK with bed-reader. Real data breaks
the object's invariants in a few ways; each has one policy, stated here and tested in
``tests/test_io.py``:

- **Multi-allelic sites are dropped**: records with more than one ALT allele, and records that
  share a chromosome and position with another record (a multi-allelic site split over several
  biallelic records, as ``bcftools norm -m-`` writes them). Records with no ALT allele (``.``)
  are dropped as monomorphic. The counts are reported in one :class:`InputWarning`.
- **Missing genotypes are imputed with the SNP's mode**: a call with any missing allele
  (``./.``, ``./1``, ``.``; PLINK's missing code) is missing. SNPs where more than
  ``max_missing`` of the individuals are missing are dropped; the other missing calls take the
  most frequent observed genotype of their SNP (ties go to the lower dosage). The mode is a
  genotype actually seen at the SNP; rounding the mean dosage would invent heterozygotes (at
  allele frequency 0.3 the mean dosage 0.6 rounds to 1, though most individuals are 0).
  The numbers of imputed calls and dropped SNPs are reported in the :class:`InputWarning`.
- **Non-diploid calls are an error**: a haploid (``1``) or polyploid (``0/0/1``) call raises
  :class:`~genobench.errors.DataError` naming the file, the site and the individual. Leave out
  haploid chromosomes (X in males, Y, MT) with ``chromosomes=``.
- **Unsorted positions are sorted**: SNPs are ordered by chromosome (1, 2, ..., 22, then X, Y,
  MT and other names alphabetically) and position. A leading ``chr`` is dropped from
  chromosome names, so ``chr22`` and ``22`` are the same chromosome.
- **Sample ids** are the VCF sample names or the PLINK IIDs (the FID is ignored); they must be
  unique. A phenotype table must have a row for every genotyped individual, or
  :func:`attach_phenotypes` raises a :class:`~genobench.errors.DataError` naming the missing
  ones; rows of individuals without genotypes are ignored (and counted in a warning).
- **Missing files** raise :class:`~genobench.errors.DataError` naming the path.
- FILTER and QUAL are not looked at: filter upstream (``bcftools view -f PASS``).

Writing goes the other way: :func:`write_vcf` (``.vcf`` or BGZF-compressed ``.vcf.gz``, which
htslib, bcftools and PLINK read and ``tabix`` indexes) and :func:`write_plink` (``.bed/.bim/
.fam``). :class:`GenotypeData` holds no allele letters; unless ``alleles`` are given, the writers
name the reference allele ``A`` and the alternate (counted) allele ``C``.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .bgzf import BgzfWriter
from .data import GenotypeData
from .errors import DataError
from .messages import GenobenchWarning, warn

#: Default share of individuals that may be missing at a SNP before the SNP is dropped
#: (PLINK's ``--geno`` default, 0.1).
MAX_MISSING = 0.1

#: Placeholder allele letters for data without any (simulated suites, synthetic output).
DEFAULT_REF, DEFAULT_ALT = "A", "C"

VCF_SUFFIXES = (".vcf", ".vcf.gz", ".vcf.bgz", ".bcf")


class InputWarning(GenobenchWarning):
    """Sites or calls of an input file were dropped or imputed under the stated policies."""


# -- helpers shared by the readers ------------------------------------------------------------

def _require_file(path: Path, what: str) -> Path:
    if not path.exists():
        raise DataError(f"{what} not found: {path}")
    if path.is_dir():
        raise DataError(f"{what} is a folder, expected a file: {path}")
    return path


def normalize_chromosome(name) -> str:
    """``"chr22"`` -> ``"22"``; other names unchanged (as str)."""
    name = str(name)
    return name[3:] if name.lower().startswith("chr") and len(name) > 3 else name


def chromosome_rank(names) -> np.ndarray:
    """Sort rank of chromosome names: numeric ones in numeric order, then others by name."""
    names = np.asarray(names, dtype=str)
    unique = sorted(set(names.tolist()),
                    key=lambda c: (0, int(c), "") if c.isdigit() else (1, 0, c))
    rank = {c: i for i, c in enumerate(unique)}
    return np.array([rank[c] for c in names.tolist()], dtype=np.int64)


def _chromosome_filter(chromosomes):
    if chromosomes is None:
        return None
    if isinstance(chromosomes, (str, int)):
        chromosomes = [chromosomes]
    return {normalize_chromosome(c) for c in chromosomes}


def _finish(path: Path, dosages: np.ndarray, chromosomes, positions, snp_ids, alleles,
            sample_ids, *, max_missing: float, dropped: dict, wanted=None):
    """Apply the policies to raw dosages (int8, -1 missing, shape (n, m)) and build the data.

    :returns: (GenotypeData, (REF, ALT) str array (n_snps, 2)).

    ``dropped`` holds counts already made by the reader (multi-allelic records...); the ones
    made here are added and everything is reported in one :class:`InputWarning`.
    """
    chromosomes = np.asarray(chromosomes, dtype=str)
    positions = np.asarray(positions, dtype=np.int64)
    snp_ids = np.asarray(snp_ids, dtype=str)
    if wanted is not None:
        absent = sorted(wanted - set(chromosomes.tolist()))
        if absent:
            found = ", ".join(sorted(set(chromosomes.tolist()), key=str)) or "none"
            raise DataError(f"{path}: chromosome {absent[0]} is not in the file "
                            f"(found: {found})")
    # Sort by chromosome and position (stable, so records at one position keep file order).
    order = np.lexsort((positions, chromosome_rank(chromosomes))) if positions.size else \
        np.zeros(0, np.int64)
    if positions.size and np.any(np.diff(order) != 1):
        dosages = dosages[:, order]
        chromosomes, positions, snp_ids = chromosomes[order], positions[order], snp_ids[order]
        alleles = alleles[order]
        dropped["sorted"] = True
    # Records sharing chromosome and position: a split multi-allelic site; drop them all.
    same = (positions[1:] == positions[:-1]) & (chromosomes[1:] == chromosomes[:-1])
    shared = np.zeros(positions.size, bool)
    shared[1:] |= same
    shared[:-1] |= same
    # Missingness per SNP.
    missing = dosages < 0
    n = dosages.shape[0]
    missing_share = missing.mean(axis=0) if n else np.zeros(positions.size)
    too_missing = (missing_share > max_missing) | (missing_share >= 1.0)
    too_missing &= ~shared
    keep = ~(shared | too_missing)
    dropped["split multi-allelic records"] = dropped.get("split multi-allelic records", 0) + \
        int(shared.sum())
    dropped["SNPs with too many missing calls"] = int(too_missing.sum())
    if not keep.all():
        dosages, missing = dosages[:, keep], missing[:, keep]
        chromosomes, positions, snp_ids = chromosomes[keep], positions[keep], snp_ids[keep]
        alleles = alleles[keep]
    n_missing = int(missing.sum())
    if n_missing:
        counts = np.stack([(dosages == g).sum(axis=0) for g in (0, 1, 2)])  # (3, m)
        mode = counts.argmax(axis=0).astype(np.int8)  # first maximum: ties go to lower dosage
        rows, columns = np.nonzero(missing)
        dosages[rows, columns] = mode[columns]
    dropped["missing calls imputed (mode)"] = n_missing
    if positions.size == 0:
        raise DataError(f"{path}: no usable biallelic SNP left "
                        f"({_describe(dropped) or 'the file has no variant records'})")
    try:
        data = GenotypeData(dosages, positions, chromosomes, snp_ids, sample_ids)
    except DataError as error:
        raise DataError(f"{path}: {error}") from None
    report = _describe(dropped)
    if report:
        warn(path, report, category=InputWarning, stacklevel=4)
    return data, alleles


def _describe(counts: dict) -> str:
    parts = [f"{value} {name}" for name, value in counts.items()
             if not isinstance(value, bool) and value]
    if counts.get("sorted"):
        parts.append("SNPs sorted by position")
    return "; ".join(parts)


def _snp_ids(given, chromosomes, positions, refs, alts) -> np.ndarray:
    """Ids from the file where present; ``chrom:pos:ref:alt`` where missing or duplicated."""
    made = np.array([f"{c}:{p}:{r}:{a}" for c, p, r, a in
                     zip(chromosomes, positions, refs, alts, strict=True)], dtype=object)
    ids = np.array([g if g not in (None, "", ".") else m
                    for g, m in zip(given, made, strict=True)], dtype=object)
    values, counts = np.unique(ids.astype(str), return_counts=True)
    if (counts > 1).any():
        duplicated = np.isin(ids.astype(str), values[counts > 1])
        ids[duplicated] = made[duplicated]
    return ids.astype(str)


# -- VCF / BCF -------------------------------------------------------------------------------

def read_vcf(path, *, chromosomes=None, max_missing: float = MAX_MISSING) -> GenotypeData:
    """Read diploid genotypes from a VCF or BCF file (``.vcf``, ``.vcf.gz``, ``.bcf``).

    :param chromosomes: keep only these chromosomes (``"22"`` or ``"chr22"``); default all.
    :param max_missing: drop SNPs with a larger share of missing calls (0 to 1).
    :returns: dosages of the ALT allele, biallelic SNPs only, sorted; see the module policies.
    :raises DataError: missing or unreadable file, a non-diploid call, no usable SNP.
    """
    return _read_vcf(path, chromosomes=chromosomes, max_missing=max_missing)[0]


def _read_vcf(path, *, chromosomes, max_missing):
    import cyvcf2

    path = _require_file(Path(path), "VCF file")
    wanted = _chromosome_filter(chromosomes)
    try:
        reader = cyvcf2.VCF(str(path), lazy=True, threads=1)
    except Exception as error:  # cyvcf2 raises bare Exception for a malformed header
        raise DataError(f"{path}: cannot read as VCF/BCF ({error})") from None
    samples = np.array(reader.samples, dtype=str)
    if samples.size == 0:
        raise DataError(f"{path}: the VCF has no samples (no genotype columns)")
    columns, chroms, positions, ids, refs, alts = [], [], [], [], [], []
    dropped = {"multi-allelic records": 0, "records without ALT allele": 0}
    try:
        for record in reader:
            chromosome = normalize_chromosome(record.CHROM)
            if wanted is not None and chromosome not in wanted:
                continue
            alt = record.ALT
            if len(alt) != 1:
                dropped["multi-allelic records" if alt else "records without ALT allele"] += 1
                continue
            calls = record.genotype.array()  # (n, ploidy + 1): alleles, then the phase flag
            _check_diploid(path, record, calls, samples)
            if calls.shape[1] < 3:  # a record of lone "." calls: all missing
                column = np.full(samples.size, -1, np.int8)
            else:
                first, second = calls[:, 0], calls[:, 1]
                column = (first == 1).astype(np.int8) + (second == 1)
                column[(first < 0) | (second < 0)] = -1
            columns.append(column)
            chroms.append(chromosome)
            positions.append(record.POS)
            ids.append(record.ID)
            refs.append(record.REF)
            alts.append(alt[0])
    except (OSError, ValueError) as error:
        raise DataError(f"{path}: cannot read as VCF/BCF ({error})") from None
    finally:
        reader.close()
    dosages = (np.stack(columns, axis=1) if columns
               else np.zeros((samples.size, 0), np.int8))
    alleles = np.array([refs, alts], dtype=str).T.reshape(-1, 2)
    snp_ids = _snp_ids(ids, chroms, positions, refs, alts)
    return _finish(path, dosages, chroms, positions, snp_ids, alleles, samples,
                   max_missing=max_missing, dropped=dropped, wanted=wanted)


def _check_diploid(path: Path, record, calls: np.ndarray, samples: np.ndarray) -> None:
    ploidy = calls.shape[1] - 1
    where = f"{record.CHROM}:{record.POS}"
    if ploidy > 2:
        bad = np.flatnonzero(calls[:, 2] != -2)
        if bad.size:
            raise DataError(
                f"{path}: non-diploid call at {where}: individual {str(samples[bad[0]])!r} has "
                f"{int((calls[bad[0], :-1] != -2).sum())} alleles; genobench reads diploid "
                "genotypes only (leave such chromosomes out with the chromosomes option)")
    # A lone "." is a missing call, not a haploid one: htslib pads it like a haploid call.
    if ploidy == 1:
        haploid = calls[:, 0] != -1
    else:
        haploid = (calls[:, 1] == -2) & (calls[:, 0] != -1)
    if haploid.any():
        i = int(np.flatnonzero(haploid)[0])
        raise DataError(
            f"{path}: non-diploid call at {where}: individual {str(samples[i])!r} has a haploid "
            "genotype; genobench reads diploid genotypes only (leave haploid chromosomes "
            "such as X, Y or MT out with the chromosomes option)")


# -- PLINK 1 binary --------------------------------------------------------------------------

def plink_prefix(path) -> Path:
    """``data.bed``, ``data.bim``, ``data.fam`` or ``data`` -> ``data`` (the file-set prefix)."""
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".bed", ".bim", ".fam") else path


def plink_files(path) -> list[Path]:
    """The ``.bed``, ``.bim`` and ``.fam`` paths of a PLINK 1 file set."""
    prefix = plink_prefix(path)
    return [prefix.with_name(prefix.name + suffix) for suffix in (".bed", ".bim", ".fam")]


def read_plink(path, *, chromosomes=None, max_missing: float = MAX_MISSING) -> GenotypeData:
    """Read a PLINK 1 binary file set (``path`` is the ``.bed`` file or the common prefix).

    Dosages count allele 1 (the 5th ``.bim`` column; ALT to PLINK 2). Sample ids are IIDs.

    :param chromosomes: keep only these chromosomes; default all.
    :param max_missing: drop SNPs with a larger share of missing calls (0 to 1).
    :raises DataError: a missing ``.bed``, ``.bim`` or ``.fam`` file, or an unreadable one.
    """
    return _read_plink(path, chromosomes=chromosomes, max_missing=max_missing)[0]


def _read_plink(path, *, chromosomes, max_missing):
    from bed_reader import open_bed

    bed, bim, fam = plink_files(path)
    for file in (bed, bim, fam):
        _require_file(file, "PLINK file")
    wanted = _chromosome_filter(chromosomes)
    try:
        with open_bed(bed, num_threads=1) as reader:
            chroms = np.array([normalize_chromosome(c) for c in reader.chromosome], dtype=str)
            index = (np.flatnonzero(np.isin(chroms, list(wanted))) if wanted is not None
                     else np.arange(chroms.size))
            dosages = reader.read(index=np.s_[:, index], dtype="int8", order="C")
            positions = reader.bp_position[index]
            ids = reader.sid[index]
            allele_1, allele_2 = reader.allele_1[index], reader.allele_2[index]
            samples = np.asarray(reader.iid, dtype=str)
    except (OSError, ValueError, RuntimeError) as error:  # bed-reader's format errors
        raise DataError(f"{bed}: cannot read as PLINK 1 binary ({error})") from None
    dosages[dosages < 0] = -1  # bed-reader marks missing int8 calls -127
    chroms = chroms[index]
    alleles = np.stack([np.asarray(allele_2, str), np.asarray(allele_1, str)], axis=1)
    snp_ids = _snp_ids(list(ids), chroms, positions, alleles[:, 0], alleles[:, 1])
    return _finish(bed, dosages, chroms, positions, snp_ids, alleles, samples,
                   max_missing=max_missing, dropped={}, wanted=wanted)


def _is_vcf(path) -> bool:
    return Path(path).name.endswith(VCF_SUFFIXES)


def read_genotypes(path, *, chromosomes=None, max_missing: float = MAX_MISSING) -> GenotypeData:
    """:func:`read_vcf` or :func:`read_plink`, chosen by the file name's ending."""
    reader = read_vcf if _is_vcf(path) else read_plink
    return reader(path, chromosomes=chromosomes, max_missing=max_missing)


def read_variants(path, *, chromosomes=None, max_missing: float = MAX_MISSING
                  ) -> tuple[GenotypeData, np.ndarray]:
    """:func:`read_genotypes` and the (REF, ALT) letters of each SNP it keeps.

    :returns: (data, str array (n_snps, 2)): for VCF the REF and first ALT allele, for PLINK
        allele 2 and allele 1 (the counted one), so dosages count column 1's allele.
    """
    reader = _read_vcf if _is_vcf(path) else _read_plink
    return reader(path, chromosomes=chromosomes, max_missing=max_missing)


def read_alleles(path, snp_ids, *, chromosomes=None,
                 max_missing: float = MAX_MISSING) -> np.ndarray:
    """(REF, ALT) letters of ``snp_ids`` in a VCF or PLINK file, str array (len(snp_ids), 2).

    Lets synthetic individuals be written with the real data's alleles; give the options the
    data was read with. SNPs the file lacks get the placeholders ``A``/``C``.
    """
    reader = _read_vcf if _is_vcf(path) else _read_plink
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        data, alleles = reader(path, chromosomes=chromosomes, max_missing=max_missing)
    found = dict(zip(data.snp_ids.tolist(), alleles.tolist(), strict=True))
    return np.array([found.get(s, [DEFAULT_REF, DEFAULT_ALT]) for s in snp_ids],
                    dtype=str).reshape(-1, 2)


# -- phenotype tables ------------------------------------------------------------------------

def read_phenotypes(path, *, id_column: str | None = None,
                    columns: list[str] | None = None) -> pd.DataFrame:
    """Read a phenotype table (CSV, TSV or whitespace-separated) keyed by sample id.

    :param id_column: column of sample ids; default the first column.
    :param columns: trait columns to keep; default every other column (except ``FID``, which
        PLINK phenotype files carry), each of which must be numeric.
    :returns: DataFrame indexed by sample id (str), one float column per trait; missing values
        (empty, ``NA``, ``-9`` is *not* treated as missing) are NaN.
    """
    path = _require_file(Path(path), "phenotype table")
    suffix = "".join(path.suffixes[-2:]).lower()
    sep = "," if suffix.endswith(".csv") else "\t" if suffix.endswith((".tsv", ".tab")) else r"\s+"
    try:
        table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, engine="python"
                            if sep == r"\s+" else "c")
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise DataError(f"{path}: cannot read phenotype table ({error})") from None
    if table.shape[1] == 0 or table.empty:
        raise DataError(f"{path}: the phenotype table is empty")
    table.columns = [str(c).strip() for c in table.columns]
    id_column = id_column or table.columns[0]
    if id_column not in table.columns:
        raise DataError(f"{path}: no id column {id_column!r} (columns: "
                        f"{', '.join(table.columns)})")
    ids = table[id_column].str.strip()
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        raise DataError(f"{path}: sample id {duplicated.iloc[0]!r} appears more than once")
    if columns is None:
        columns = [c for c in table.columns if c != id_column and c.lstrip("#") != "FID"]
    else:
        absent = [c for c in columns if c not in table.columns]
        if absent:
            raise DataError(f"{path}: no column {absent[0]!r} (columns: "
                            f"{', '.join(table.columns)})")
    if not columns:
        raise DataError(f"{path}: the phenotype table has no trait column besides "
                        f"{id_column!r}")
    values = {}
    for column in columns:
        text = table[column].str.strip().replace({"": None, "NA": None, "NaN": None,
                                                   "nan": None, ".": None})
        numbers = pd.to_numeric(text, errors="coerce")
        bad = numbers.isna() & text.notna()
        if bad.any():
            raise DataError(f"{path}: column {column!r} is not numeric (value "
                            f"{text[bad].iloc[0]!r} for sample {ids[bad].iloc[0]!r}); "
                            "choose the trait columns explicitly")
        values[column] = numbers.astype(float).to_numpy()
    return pd.DataFrame(values, index=pd.Index(ids.to_numpy(), name=id_column))


def attach_phenotypes(data: GenotypeData, table: pd.DataFrame, *,
                      where: str = "phenotype table") -> GenotypeData:
    """``data`` with phenotypes from ``table`` (indexed by sample id), in ``data``'s order.

    :raises DataError: a genotyped individual has no row, or a missing value among them.
    """
    ids = data.sample_ids
    present = np.isin(ids, table.index.to_numpy(dtype=str))
    if not present.all():
        missing = ids[~present]
        shown = ", ".join(repr(str(s)) for s in missing[:3])
        raise DataError(
            f"{where}: {missing.size} of {ids.size} genotyped individuals have no row "
            f"(first: {shown}); sample ids must match the genotype file's "
            f"(table ids look like {str(table.index[0])!r})")
    extra = len(table) - ids.size
    if extra > 0:
        warn(where, "rows of individuals without genotypes ignored", extra,
             category=InputWarning)
    rows = table.loc[ids].reset_index(drop=True)
    gaps = rows.isna()
    if gaps.to_numpy().any():
        i, j = np.argwhere(gaps.to_numpy())[0]
        raise DataError(f"{where}: missing value of {rows.columns[j]!r} for individual "
                        f"{str(ids[i])!r} ({int(gaps.to_numpy().any(axis=1).sum())} "
                        "individuals have gaps); remove them or fill the values in")
    return dataclasses.replace(data, phenotypes=rows)


# -- writing ---------------------------------------------------------------------------------

def _alleles_for(data: GenotypeData, alleles) -> np.ndarray:
    if alleles is None:
        return np.tile(np.array([DEFAULT_REF, DEFAULT_ALT]), (data.n_snps, 1))
    alleles = np.asarray(alleles, dtype=str)
    if alleles.shape != (data.n_snps, 2):
        raise DataError(f"alleles: expected shape ({data.n_snps}, 2), got {alleles.shape}")
    return alleles


def _check_ids(ids, what: str) -> None:
    for value in ids:
        if re.search(r"\s", value) or not value:
            raise DataError(f"{what} {value!r} is empty or holds whitespace; VCF and PLINK "
                            "files cannot carry it")


def write_vcf(data: GenotypeData, path, *, alleles=None, source: str = "genobench") -> Path:
    """Write unphased diploid genotypes as VCF 4.2 (``.vcf``, or BGZF ``.vcf.gz``).

    :param alleles: (REF, ALT) per SNP, str array (n_snps, 2) (see :func:`read_alleles`);
        default ``A``/``C``. Dosage d is written ``0/0``, ``0/1``, ``1/1``.
    :returns: the path written. Phenotypes, if any, go to :func:`write_phenotypes` alongside.
    """
    path = Path(path)
    alleles = _alleles_for(data, alleles)
    _check_ids(data.sample_ids, "sample id")
    _check_ids(data.snp_ids, "SNP id")
    compressed = path.name.endswith((".gz", ".bgz"))
    header = ["##fileformat=VCFv4.2", f"##source={source} {__version__}"]
    header += [f"##contig=<ID={c}>" for c in dict.fromkeys(data.chromosomes.tolist())]
    header += ['##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
               "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
                          "FORMAT", *data.sample_ids.tolist()])]
    codes = np.frombuffer(b"0/0\t0/1\t1/1\t", dtype=np.uint8).reshape(3, 4)
    n = data.n_samples
    block = max(1, (8 << 20) // max(1, 4 * n))
    with open(path, "wb") as raw:
        out = BgzfWriter(raw) if compressed else raw
        out.write(("\n".join(header) + "\n").encode())
        for start in range(0, data.n_snps, block):
            stop = min(start + block, data.n_snps)
            text = codes[data.dosages[:, start:stop].T].reshape(stop - start, 4 * n)
            text[:, -1] = ord("\n")
            lines = []
            for j, row in zip(range(start, stop), text, strict=True):
                lines.append(f"{data.chromosomes[j]}\t{data.positions[j]}\t{data.snp_ids[j]}\t"
                             f"{alleles[j, 0]}\t{alleles[j, 1]}\t.\t.\t.\tGT\t".encode())
                lines.append(row.tobytes())
            out.write(b"".join(lines))
        if compressed:
            out.close()
    if data.phenotypes is not None:
        write_phenotypes(data, _sidecar(path))
    return path


def write_plink(data: GenotypeData, path, *, alleles=None) -> Path:
    """Write a PLINK 1 binary file set; ``path`` is the ``.bed`` file or the prefix.

    Allele 1 (5th ``.bim`` column) is the counted ALT allele, allele 2 the REF; FIDs are
    ``0``, sex and phenotype unknown in the ``.fam`` (phenotypes go to a ``.pheno`` file).

    :returns: the ``.bed`` path.
    """
    from bed_reader import to_bed

    alleles = _alleles_for(data, alleles)
    _check_ids(data.sample_ids, "sample id")
    _check_ids(data.snp_ids, "SNP id")
    bed = plink_files(path)[0]
    n = data.n_samples
    properties = dict(fid=["0"] * n, iid=data.sample_ids.tolist(), father=["0"] * n,
                      mother=["0"] * n, sex=[0] * n, pheno=["-9"] * n,
                      chromosome=data.chromosomes.tolist(), sid=data.snp_ids.tolist(),
                      cm_position=[0.0] * data.n_snps, bp_position=data.positions.tolist(),
                      allele_1=alleles[:, 1].tolist(), allele_2=alleles[:, 0].tolist())
    to_bed(bed, data.dosages, properties=properties, count_A1=True, num_threads=1)
    if data.phenotypes is not None:
        write_phenotypes(data, _sidecar(bed))
    return bed


def write_genotypes(data: GenotypeData, path, *, alleles=None) -> Path:
    """:func:`write_vcf` for ``.vcf``/``.vcf.gz``, :func:`write_plink` for ``.bed``."""
    name = Path(path).name
    if name.endswith((".vcf", ".vcf.gz", ".vcf.bgz")):
        return write_vcf(data, path, alleles=alleles)
    if name.endswith(".bed"):
        return write_plink(data, path, alleles=alleles)
    raise DataError(f"{path}: cannot tell the format from the name; use .vcf, .vcf.gz or .bed")


def _sidecar(path: Path) -> Path:
    name = path.name
    for suffix in (".vcf.gz", ".vcf.bgz", ".vcf", ".bed"):
        if name.endswith(suffix):
            return path.with_name(name[: -len(suffix)] + ".pheno")
    return path.with_name(name + ".pheno")


def write_phenotypes(data: GenotypeData, path) -> Path:
    """Write ``data``'s phenotypes as a tab-separated table with an ``IID`` first column.

    The layout is both :func:`read_phenotypes`' input and PLINK 2's ``--pheno`` file.
    """
    if data.phenotypes is None:
        raise DataError("the data set has no phenotypes to write")
    table = data.phenotypes.copy()
    table.insert(0, "IID", data.sample_ids)
    table.to_csv(path, sep="\t", index=False, na_rep="NA")
    return Path(path)
