"""``genobench evaluate`` on users' own files: a messy sequencing-centre VCF against a synthetic
VCF made from it, REF/ALT swaps, allele mismatches, phenotype tables and one-line warnings."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from genobench import io
from genobench.cli import main
from genobench.data import GenotypeData
from genobench.errors import DataError
from genobench.messages import Notice, collect, warn
from genobench.metrics.align import VariantSet, match_snps

N, M = 80, 120
BASES = np.array(list("ACGT"))
METRICS = ("allele_frequency_r", "ld_decay_distance", "correlation_score")


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """A VCF as a sequencing centre writes it: phased calls, 1 % missing, "chr7" names, a
    multi-allelic site, an indel, strand-ambiguous SNPs; and its true dosages and alleles."""
    folder = tmp_path_factory.mktemp("messy")
    rng = np.random.default_rng(11)
    p = np.where(np.arange(M) % 4 == 0, rng.uniform(0.004, 0.02, M), rng.uniform(0.1, 0.9, M))
    haplotypes = (rng.random((N, 2, M)) < p).astype(int)
    ref = BASES[rng.integers(0, 4, M)]
    alt = np.array([rng.choice([b for b in BASES if b != r]) for r in ref])
    lines = ["##fileformat=VCFv4.2", "##contig=<ID=chr7,length=159345973>",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
             + "\t".join(f"S{i}" for i in range(N))]
    missing = rng.random((N, M)) < 0.01
    for j in range(M):
        calls = [("./." if missing[i, j] else f"{haplotypes[i, 0, j]}|{haplotypes[i, 1, j]}")
                 for i in range(N)]
        lines.append(f"chr7\t{10_000 * (j + 1)}\trs{j}\t{ref[j]}\t{alt[j]}\t50\tPASS\t.\tGT\t"
                     + "\t".join(calls))
    triple = "\t".join(["0|2", "1|0", "0|0", "2|2"] * (N // 4))
    lines.append(f"chr7\t{10_000 * (M + 1)}\tmulti\tA\tC,G\t50\tPASS\t.\tGT\t{triple}")
    indel = "\t".join(["0|1", "0|0"] * (N // 2))
    lines.append(f"chr7\t{10_000 * (M + 2)}\tindel\tAT\tA\t50\tPASS\t.\tGT\t{indel}")
    path = folder / "messy.vcf"
    path.write_text("\n".join(lines) + "\n")
    return dict(path=path, folder=folder, ref=ref, alt=alt)


@pytest.fixture(scope="module")
def synthetic(messy):
    """A synthetic VCF made from the messy one the way `generate` writes its output: the
    real alleles, "7" for "chr7", and without the rare SNPs its panel dropped; plus the same
    individuals with REF and ALT swapped (dosages 2 - x) on every other SNP."""
    with collect():
        real, alleles = io.read_variants(messy["path"])
    rng = np.random.default_rng(5)
    frequencies = real.allele_frequencies()
    common = np.flatnonzero(np.minimum(frequencies, 1 - frequencies) >= 0.05)
    panel = real.take_snps(common)
    # a crude generator: each synthetic SNP copied from a random real individual
    rows = rng.integers(0, real.n_samples, (60, panel.n_snps))
    dosages = panel.dosages[rows, np.arange(panel.n_snps)]
    made = GenotypeData(dosages, panel.positions, panel.chromosomes, panel.snp_ids,
                        [f"syn{i}" for i in range(60)])
    plain = io.write_vcf(made, messy["folder"] / "syn.vcf.gz", alleles=alleles[common])
    swap = np.arange(panel.n_snps) % 2 == 0
    swapped_alleles = alleles[common].copy()
    swapped_alleles[swap] = swapped_alleles[swap][:, ::-1]
    flipped = dosages.copy()
    flipped[:, swap] = 2 - flipped[:, swap]
    swapped = io.write_vcf(made.with_dosages(flipped, sample_prefix="syn"),
                           messy["folder"] / "swapped.vcf.gz", alleles=swapped_alleles)
    ref, alt = alleles[common].T
    comparable = np.array([{r, a} not in ({"A", "T"}, {"C", "G"}) and len(r) == len(a) == 1
                           for r, a in zip(ref, alt, strict=True)])
    return dict(plain=plain, swapped=swapped, alleles=alleles, real=real, made=made,
                swapped_count=int((swap & comparable).sum()))


def test_messy_vcf_is_scored_on_the_shared_snps(messy, synthetic):
    out = messy["folder"] / "scores.json"
    result = invoke("evaluate", "--real", messy["path"], "--synthetic", synthetic["plain"],
                    *sum((("-m", m) for m in METRICS), ()), "--json", out)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    # the reader's policies, then one line per file about the comparison
    assert any(line.startswith(f"warning: {messy['path']}: 1 multi-allelic records")
               for line in warnings), warnings
    ref, alt = synthetic["alleles"].T
    ambiguous = np.array([{r, a} in ({"A", "T"}, {"C", "G"}) for r, a in zip(ref, alt,
                                                                            strict=True)])
    indel = (np.char.str_len(ref) != 1) | (np.char.str_len(alt) != 1)
    usable = ~ambiguous & ~indel
    in_synthetic = np.isin(synthetic["real"].snp_ids, synthetic["made"].snp_ids)
    real_line = next(line for line in warnings if "left out of the comparison" in line
                     and str(messy["path"]) in line)
    assert real_line.endswith(
        f": SNPs left out of the comparison: {int((usable & ~in_synthetic).sum())} not in "
        f"every file, {int(ambiguous.sum())} strand-ambiguous (A/T or C/G), 1 indel or not a "
        f"SNP ({int((~(usable & in_synthetic)).sum())})")
    shared = json.loads(out.read_text())["details"]["inputs"]["real"]["shared_snps"]
    assert shared == int((usable & in_synthetic).sum()) > 40
    assert real_line.endswith(")") and all(line.count("\n") == 0 for line in warnings)
    payload = json.loads(out.read_text())
    assert set(METRICS) <= set(payload)
    assert payload["allele_frequency_r"] > 0.9
    recorded = payload["details"]["warnings"]
    assert [Notice.from_json(w).line() for w in recorded] == warnings


def test_ref_alt_swap_gives_the_same_metrics(messy, synthetic):
    scores = {}
    for name in ("plain", "swapped"):
        out = messy["folder"] / f"{name}.json"
        result = invoke("evaluate", "--real", messy["path"], "--synthetic", synthetic[name],
                        "-q", "--json", out)
        assert result.exit_code == 0, result.output
        assert "Evaluating" not in result.output  # -q: only the table and the warnings
        assert "warning: " in result.output
        scores[name] = json.loads(out.read_text())
        if name == "swapped":
            assert (f"{synthetic['swapped_count']} with REF/ALT swapped kept as 2 - x"
                    in result.output)
            inputs = scores[name]["details"]["inputs"]["synthetic"]
            assert inputs["swapped"] == synthetic["swapped_count"]
    plain, swapped = ({k: v for k, v in s.items() if k != "details"}
                      for s in (scores["plain"], scores["swapped"]))
    assert plain.keys() == swapped.keys() and len(plain) > 5
    for key, value in plain.items():
        if isinstance(value, float) and np.isnan(value):
            assert np.isnan(swapped[key])
        else:
            assert swapped[key] == value, key


def test_strict_keeps_the_refusal(messy, synthetic):
    result = invoke("evaluate", "--real", messy["path"], "--synthetic", synthetic["plain"],
                    "--strict")
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"Error: --synthetic {synthetic['plain']}: lacks ")
    assert "leave out --strict" in last and "Traceback" not in result.output


def variants(dosages, alleles, name, chromosome="1"):
    m = dosages.shape[1]
    data = GenotypeData(np.asarray(dosages, np.int8), np.arange(1, m + 1) * 100,
                        [chromosome] * m, [f"s{j}" for j in range(m)],
                        [f"{name}{i}" for i in range(dosages.shape[0])])
    return VariantSet(data, np.array(alleles, dtype=str), name)


def test_match_snps_counts_every_reason_and_flips_swaps():
    x = np.array([[0, 1, 2, 0, 1, 2], [2, 1, 0, 1, 1, 0]])
    real = variants(x, [["A", "C"], ["A", "G"], ["A", "T"], ["AT", "A"], ["C", "T"],
                        ["G", "T"]], "real.vcf")
    other = variants(x, [["C", "A"], ["A", "C"], ["A", "T"], ["AT", "A"], ["C", "T"],
                         ["G", "T"]], "syn.vcf", chromosome="chr1")
    other = VariantSet(other.data.take_snps([0, 1, 2, 3, 4]), other.alleles[:5], "syn.vcf")
    match = match_snps(real, other)
    # kept: SNP 0 (swapped in syn) and SNP 4; SNP 1 mismatched, 2 ambiguous, 3 an indel,
    # 5 missing from syn
    real_out, other_out = match.sets
    assert real_out.snp_ids.tolist() == ["s0", "s4"]
    np.testing.assert_array_equal(other_out.dosages, [[2, 1], [0, 1]])
    assert match.swapped["syn.vcf"] == 1
    assert match.left_out["real.vcf"] == {"not in every file": 1, "allele mismatch": 1,
                                          "strand-ambiguous (A/T or C/G)": 1,
                                          "indel or not a SNP": 1}
    assert match.left_out["syn.vcf"] == {"allele mismatch": 1,
                                         "strand-ambiguous (A/T or C/G)": 1,
                                         "indel or not a SNP": 1}
    lines = [notice.line() for notice in match.notices()]
    assert lines[0] == ("warning: real.vcf: SNPs left out of the comparison: 1 not in every "
                        "file, 1 allele mismatch, 1 strand-ambiguous (A/T or C/G), 1 indel or "
                        "not a SNP (4)")
    assert lines[1].endswith("1 with REF/ALT swapped kept as 2 - x (3)")
    with pytest.raises(DataError, match=r"syn.vcf: lacks 2 of the real data's 6 SNPs"):
        match_snps(real, other, strict=True)
    moved = variants(x, real.alleles, "moved.vcf", chromosome="2")
    with pytest.raises(DataError, match="no SNP in common"):
        match_snps(real, moved)


def test_phenotype_tables_reach_the_association_metrics(messy, synthetic):
    rng = np.random.default_rng(2)
    real_table = messy["folder"] / "real_pheno.tsv"
    ids = synthetic["real"].sample_ids
    real_table.write_text("iid\theight\n" + "".join(
        f"{s}\t{v:.3f}\n" for s, v in zip(ids, rng.normal(170, 8, ids.size), strict=True)))
    syn_table = messy["folder"] / "syn_pheno.csv"
    syn_table.write_text("iid,height\n" + "".join(f"syn{i},{v:.3f}\n" for i, v in
                                                  enumerate(rng.normal(170, 8, 60))))
    out = messy["folder"] / "pheno.json"
    result = invoke("evaluate", "--real", messy["path"], "--synthetic", synthetic["plain"],
                    "--real-pheno", real_table, "--synthetic-pheno", syn_table, "--json", out)
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    notes = payload["details"]["notes"]
    association = [name for name, info in payload["details"]["metric_info"].items()
                   if info["family"] == "association"]
    assert association
    # with phenotypes on both sides at least one association metric computes a value
    assert any(payload[name] is not None for name in association), {
        name: notes[name] for name in association}
    bad = invoke("evaluate", "--real", messy["path"], "--synthetic", synthetic["plain"],
                 "--real-pheno", syn_table)
    assert bad.exit_code == 1 and "have no row" in bad.output
    assert "Traceback" not in bad.output


def test_library_warnings_become_one_line(tmp_path):
    import warnings as python_warnings

    with collect(source="data.vcf") as caught:
        python_warnings.warn("something odd\nsecond line", RuntimeWarning, stacklevel=1)
        warn("x.vcf", "calls imputed", 3)
        warn("x.vcf", "calls imputed", 3)  # the same notice once
    assert [n.line() for n in caught] == ["warning: data.vcf: something odd",
                                          "warning: x.vcf: calls imputed (3)"]
