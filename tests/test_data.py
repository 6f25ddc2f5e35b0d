import numpy as np
import pandas as pd
import pytest

from genobench import DataError, GenotypeData, check_dosages


def make(n=4, m=3, **kw):
    rng = np.random.default_rng(0)
    args = dict(dosages=rng.integers(0, 3, (n, m)), positions=np.arange(1, m + 1) * 100,
                chromosomes="1", snp_ids=[f"s{i}" for i in range(m)],
                sample_ids=[f"i{i}" for i in range(n)])
    args.update(kw)
    return GenotypeData(**args)


def test_valid_data_is_int8_and_shaped():
    data = make(populations=["A", "A", "B", "B"], phenotypes=pd.DataFrame({"h": [1, 2, 3, 4]}))
    assert data.dosages.dtype == np.int8
    assert (data.n_samples, data.n_snps) == (4, 3)
    assert data.chromosomes.tolist() == ["1", "1", "1"]
    assert data.trait_names == ["h"]


@pytest.mark.parametrize("bad, message", [
    (np.array([[0, 3], [1, 1]]), "value 3 at individual 0, SNP 1"),
    (np.array([[0, -1], [1, 1]]), "value -1"),
    (np.array([[0, np.nan], [1, 1]]), "value nan"),
    (np.array([[0, 0.5], [1, 1]]), "value 0.5"),
    (np.array([0, 1, 2]), "expected a 2-D array"),
    (np.array([["a", "b"]]), "expected integer dosages"),
])
def test_invalid_dosages_name_the_first_offending_value(bad, message):
    with pytest.raises(DataError, match=message):
        check_dosages(bad)


def test_check_dosages_counts_individuals_and_snps():
    with pytest.raises(DataError, match="expected 5 individuals, got 2"):
        check_dosages(np.zeros((2, 3)), n_samples=5)
    with pytest.raises(DataError, match="expected 4 SNPs, got 3"):
        check_dosages(np.zeros((2, 3)), n_snps=4)


def test_annotations_are_validated():
    with pytest.raises(DataError, match="positions"):
        make(positions=[1, 2])
    with pytest.raises(DataError, match="duplicated id 's0'"):
        make(snp_ids=["s0", "s0", "s1"])
    with pytest.raises(DataError, match="populations"):
        make(populations=["A"])
    with pytest.raises(DataError, match="phenotypes: expected 4 rows"):
        make(phenotypes=pd.DataFrame({"h": [1.0]}))


def test_subsets_and_round_trip(tmp_path):
    data = make(n=6, m=5, populations=list("AABBCC"),
                phenotypes=pd.DataFrame({"h": np.arange(6.0)}))
    sub = data.take_samples([1, 3]).take_snps([0, 4])
    assert sub.dosages.tolist() == data.dosages[[1, 3]][:, [0, 4]].tolist()
    assert sub.populations.tolist() == ["A", "B"]
    assert sub.phenotypes["h"].tolist() == [1.0, 3.0]
    path = tmp_path / "d.npz"
    sub.save(path)
    back = GenotypeData.load(path)
    assert back.dosages.tolist() == sub.dosages.tolist()
    assert back.snp_ids.tolist() == sub.snp_ids.tolist()
    assert back.phenotypes["h"].tolist() == [1.0, 3.0]


def test_allele_frequencies():
    data = make(dosages=np.array([[0, 2], [2, 2], [1, 0], [1, 2]]), n=4, m=2,
                positions=[1, 2], snp_ids=["a", "b"])
    assert data.allele_frequencies().tolist() == [0.5, 0.75]


def test_load_reports_unreadable_file(tmp_path):
    path = tmp_path / "bad.npz"
    path.write_text("not a zip")
    with pytest.raises(DataError, match="cannot read genotype data"):
        GenotypeData.load(path)
