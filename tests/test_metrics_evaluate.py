"""``genobench evaluate`` on files, and the SNP matching behind it (genobench/metrics/align.py)."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from genobench import io
from genobench.cli import main
from genobench.data import GenotypeData
from genobench.errors import DataError
from genobench.metrics.align import align_snps

KEYS = {"allele_frequency_r", "genotype_frequency_r", "fst", "fst_hudson", "ld_decay_distance",
        "pca_wasserstein", "pca_w2_real_basis", "precision", "recall", "f1",
        "correlation_score", "aats", "detection_auc"}
#: The privacy gates, which need the training split.
GATES = {"privacy_loss", "aats_train", "exact_copies", "dcr", "dcr_closer_share", "kinship",
         "membership_auc"}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    m = 300
    p = rng.uniform(0.1, 0.9, m)
    dosages = rng.binomial(2, p, (90, m)).astype(np.int8)
    return GenotypeData(dosages, np.arange(1, m + 1) * 5000, np.where(np.arange(m) < 200, "1", "2"),
                        [f"rs{j}" for j in range(m)], [f"ind{i}" for i in range(90)])


@pytest.fixture(scope="module")
def files(data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("evaluate")
    real, synthetic, train = (data.take_samples(np.arange(k * 30, (k + 1) * 30))
                              for k in range(3))
    return dict(real=io.write_vcf(real, folder / "real.vcf.gz"),
                synthetic=io.write_plink(synthetic, folder / "synthetic.bed"),
                train=io.write_plink(train, folder / "train.bed"), folder=folder)


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_evaluate_writes_every_metric(files):
    out = files["folder"] / "scores.json"
    result = invoke("evaluate", "--real", files["real"], "--synthetic",
                    files["synthetic"].with_suffix(""), "--train", files["train"],
                    "--json", out)
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())
    assert KEYS | GATES <= set(scores)
    # AA real and AA synthetic are no metrics any more: AATS's note and curves carry them
    assert not {"aa_real", "aa_synthetic"} & set(scores)
    assert scores["allele_frequency_r"] > 0.8 and scores["exact_copies"] == 0.0
    assert 0 <= scores["aats"] <= 1
    details = scores["details"]
    assert details["inputs"]["synthetic"]["matched_by"] == "chromosome, position and alleles"
    info = details["metric_info"]
    assert (info["aats"]["family"], info["aats"]["ideal"]) == ("structure", 0.5)
    assert {info[name]["family"] for name in GATES} == {"privacy"}
    assert all(info[name]["ideal"] is None and info[name]["risk"] for name in GATES)
    assert "AA real" in details["notes"]["aats"]
    assert "precision" in details["notes"] and "pca_w2_real_basis" in details["curves"]
    assert "aats" in result.output and "allele_frequency_r" in result.output
    # the verdict beside the values: the synthetic set between baselines and real data
    assert {"synthetic", "real_holdout", "independent_sites", "permuted_frequencies"} <= set(
        scores["scorecard"]["generators"])


def test_evaluate_without_train_and_chosen_metrics(files):
    out = files["folder"] / "two.json"
    result = invoke("evaluate", "--real", files["real"], "--synthetic", files["synthetic"],
                    "-m", "aats", "-m", "exact_copies", "--json", out)
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())
    assert set(scores) == {"aats", "exact_copies", "details", "scorecard"}
    assert scores["exact_copies"] is None
    assert scores["details"]["notes"]["exact_copies"] == "needs the training split"
    plain = invoke("evaluate", "--real", files["real"], "--synthetic", files["synthetic"],
                   "-m", "aats", "--no-scorecard", "--json", out)
    assert plain.exit_code == 0, plain.output
    assert set(json.loads(out.read_text())) == {"aats", "details"}


def test_snps_matched_by_position_and_reordered(data, files):
    # another generator's file: its own SNP ids, SNPs in another order, one extra SNP
    synthetic = data.take_samples(np.arange(30, 60))
    order = np.r_[np.arange(200, 300), np.arange(200)]
    other = GenotypeData(np.c_[synthetic.dosages[:, order], synthetic.dosages[:, :1]],
                         np.r_[synthetic.positions[order], 99_999_999],
                         np.concatenate([synthetic.chromosomes[order], ["3"]]),
                         [f"x{j}" for j in range(301)], synthetic.sample_ids)
    real = data.take_samples(np.arange(30))
    aligned, how = align_snps(real, other)
    assert how == "position"
    np.testing.assert_array_equal(aligned.dosages, synthetic.dosages)
    np.testing.assert_array_equal(aligned.snp_ids, real.snp_ids)
    assert aligned.sample_ids.tolist() == synthetic.sample_ids.tolist()
    path = io.write_vcf(other, files["folder"] / "renamed.vcf")
    out = files["folder"] / "renamed.json"
    result = invoke("evaluate", "--real", files["real"], "--synthetic", path, "-m",
                    "allele_frequency_r", "--json", out)
    assert result.exit_code == 0, result.output
    direct = invoke("evaluate", "--real", files["real"], "--synthetic", files["synthetic"],
                    "-m", "allele_frequency_r", "--json", files["folder"] / "direct.json")
    assert direct.exit_code == 0
    assert json.loads(out.read_text())["allele_frequency_r"] == pytest.approx(
        json.loads((files["folder"] / "direct.json").read_text())["allele_frequency_r"])


def test_mismatched_snps_are_one_clear_error(data, files):
    real = data.take_samples(np.arange(30))
    partial = real.take_snps(np.arange(250))
    with pytest.raises(DataError, match=r"lacks 50 of the real data's 300 SNPs .*rs250"):
        align_snps(real, partial, what="--synthetic x.vcf")
    moved = GenotypeData(real.dosages, real.positions + 1, real.chromosomes,
                         [f"x{j}" for j in range(300)], real.sample_ids)
    with pytest.raises(DataError, match="no SNP in common"):
        align_snps(real, moved)
    path = io.write_plink(partial, files["folder"] / "partial.bed")
    result = invoke("evaluate", "--real", files["real"], "--synthetic", path, "--strict")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error: --synthetic ")
    assert "lacks 50" in result.output and "Traceback" not in result.output


def test_bad_inputs_fail_cleanly(files):
    missing = invoke("evaluate", "--real", files["folder"] / "nope.vcf", "--synthetic",
                     files["synthetic"])
    assert missing.exit_code == 1 and "nope.vcf" in missing.output
    unknown = invoke("evaluate", "--real", files["real"], "--synthetic", files["synthetic"],
                     "-m", "no_such_metric")
    assert unknown.exit_code == 1 and "no_such_metric" in unknown.output


def test_suite_options_default_to_the_metrics_defaults():
    import pydantic

    from genobench.metrics.options import DetectionOptions, LDOptions, NeighbourOptions
    from genobench.suites import EvaluateSpec

    # genobench evaluate passes no options, and a suite without an [evaluate] table sets none:
    # both read the defaults of the metrics' own option models (one owner per value)
    assert EvaluateSpec().options() == {}
    neighbour, ld, detection = NeighbourOptions(), LDOptions(), DetectionOptions()
    assert neighbour.knn_k is None  # the k-NN size rule
    assert (neighbour.distance, neighbour.subsample_seed) == ("euclidean", 0)
    assert (detection.pca_components, detection.pca_scaler) == (10, "none")
    assert (detection.wasserstein_max_points, detection.detection_folds) == (2000, 5)
    assert (ld.ld_min_distance, ld.ld_max_distance, ld.ld_bins) == (1e3, 1e6, 16)
    for model, bad in ((DetectionOptions, dict(pca_scaler="zca")),
                       (NeighbourOptions, dict(knn_k=0)),
                       (DetectionOptions, dict(detection_folds=1))):
        with pytest.raises(pydantic.ValidationError):
            model(**bad)
