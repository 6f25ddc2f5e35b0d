"""Saved models (genobench/modelfile.py and Generator.get_state / set_state).

Every first-party generator saves after fitting on a tiny suite and, loaded in a fresh process,
generates exactly what the fitted object generates; files that could run code (a pickle, a
torch.save file) are refused unread; the header's checks give one clear error each.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_SUITE

import genobench
from genobench import DataError, FitContext, Generator, GeneratorError, modelfile
from genobench.registry import get_generator
from genobench.suites import load_spec, materialize

#: Tiny networks and short training: the test is about storage, not quality.
OPTIONS = {
    "vae": dict(epochs=3, hidden=[32, 16], latent_dim=4, eval_every=2),
    "gan": dict(epochs=2, generator_hidden=[32], critic_hidden=[32], latent_dim=8,
                eval_every=2),
    "wgan_gp": dict(epochs=2, generator_hidden=[32], critic_hidden=[32], latent_dim=8,
                    eval_every=2),
    "diffusion": dict(epochs=3, steps=20, hidden=32, blocks=1, max_components=8, eval_every=2),
    "msprime": {},
    "independent_sites": {},
}
N, SEED = 12, 4


def genobench_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "genobench.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    path = tmp_path_factory.mktemp("suite") / "tiny.toml"
    path.write_text(TINY_SUITE)
    return materialize(load_spec(path))


@pytest.fixture(scope="module")
def saved(suite, tmp_path_factory):
    """Each generator fitted on the tiny suite and saved; what it generated before saving."""
    folder = tmp_path_factory.mktemp("models")
    context = FitContext(validation=suite.validation, source=suite.source, suite=suite.name,
                         profile="quick", device="cpu")
    phenotypes = suite.train.phenotypes.to_numpy(np.float64)[:N] \
        if suite.train.phenotypes is not None and suite.train.phenotypes.shape[1] else None
    expected = {}
    for name, options in OPTIONS.items():
        generator = get_generator(name)(**options)
        generator.fit(suite.train, seed=1, context=context)
        generator.save(folder / f"{name}.npz", snp_ids=suite.train.snp_ids, suite=suite.name)
        expected[name] = generator.generate(N, seed=SEED)
        if generator.supports_phenotypes and phenotypes is not None:
            expected[f"{name}+phenotypes"] = generator.generate(N, seed=SEED,
                                                                phenotypes=phenotypes)
    return folder, expected, phenotypes


@pytest.mark.slow
def test_every_first_party_generator_reloads_in_a_fresh_process(saved):
    folder, expected, phenotypes = saved
    script = textwrap.dedent(f"""
        import sys, numpy as np, torch
        from genobench import Generator
        torch.set_num_threads({torch.get_num_threads()})
        folder, out = sys.argv[1], {{}}
        phenotypes = None if sys.argv[2] == "-" else np.load(sys.argv[2])
        for name in {list(OPTIONS)!r}:
            model = Generator.load(f"{{folder}}/{{name}}.npz", device="cpu")
            assert model.name == name, model.name
            out[name] = model.generate({N}, seed={SEED})
            if model.supports_phenotypes and phenotypes is not None:
                out[name + "+phenotypes"] = model.generate({N}, seed={SEED},
                                                           phenotypes=phenotypes)
        np.savez(f"{{folder}}/generated.npz", **out)
    """)
    pheno_arg = "-"
    if phenotypes is not None:
        pheno_arg = str(folder / "phenotypes.npy")
        np.save(pheno_arg, phenotypes)
    result = subprocess.run([sys.executable, "-c", script, str(folder), pheno_arg],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    with np.load(folder / "generated.npz") as generated:
        assert sorted(generated.files) == sorted(expected)
        for key, values in expected.items():
            assert values.shape == (N, len(modelfile.read_header(
                folder / f"{key.split('+')[0]}.npz").snp_ids))
            assert np.array_equal(generated[key], values), key


def test_header_records_what_the_model_is(saved, suite):
    folder, _, _ = saved
    header = modelfile.read_header(folder / "vae.npz")
    assert header.generator == "vae"
    assert header.distribution == "genobench"
    assert header.genobench_version == genobench.__version__
    assert header.format_version == modelfile.FORMAT_VERSION
    assert header.options == OPTIONS["vae"]
    assert header.suite == suite.name
    assert list(header.snp_ids) == suite.train.snp_ids.tolist()
    with zipfile.ZipFile(folder / "vae.npz") as archive:  # arrays only: no pickle inside
        assert all(name.endswith(".npy") for name in archive.namelist())


# -- files that could run code --------------------------------------------------------------
class _Payload:
    """Unpickling this calls exec on code that writes the marker file."""

    def __init__(self, marker: Path):
        self.code = f"open({str(marker)!r}, 'w').write('ran')"

    def __reduce__(self):
        return (exec, (self.code,))


def _malicious_files(folder: Path, marker: Path) -> dict[str, Path]:
    import pickle

    files = {"pickle": folder / "evil.pkl", "torch": folder / "evil.pt"}
    files["pickle"].write_bytes(pickle.dumps(_Payload(marker)))
    torch.save({"weights": torch.zeros(2), "payload": _Payload(marker)}, files["torch"])
    return files


def test_malicious_files_are_live(tmp_path):
    """The payloads do run code when opened the unsafe way (so the refusal test means it)."""
    marker = tmp_path / "control-marker"
    files = _malicious_files(tmp_path, marker)
    for path in files.values():
        code = (f"import pickle, torch; p = {str(path)!r}\n"
                "try:\n    pickle.load(open(p, 'rb'))\n"
                "except Exception:\n    torch.load(p, weights_only=False)\n")
        subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
        assert marker.exists(), path
        marker.unlink()


@pytest.mark.parametrize("kind, message", [
    ("pickle", "is a pickle file: refused, since loading a pickle can run arbitrary code"),
    ("torch", "is a torch.save file (a pickle in a zip): refused"),
])
def test_generate_refuses_files_that_could_run_code(tmp_path, tiny_suite_file, kind, message):
    marker = tmp_path / "marker"
    path = _malicious_files(tmp_path, marker)[kind]
    result = genobench_cli("generate", "-g", "vae", "-s", str(tiny_suite_file), "-n", "5",
                           "-o", str(tmp_path / "out.vcf"), "--model", str(path))
    assert result.returncode == 1
    assert message in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert not marker.exists()
    assert not (tmp_path / "out.vcf").exists()


def test_python_load_refuses_them_too(tmp_path):
    marker = tmp_path / "marker"
    for path in _malicious_files(tmp_path, marker).values():
        with pytest.raises(DataError, match="refused"):
            Generator.load(path)
    assert not marker.exists()


# -- header checks --------------------------------------------------------------------------
@pytest.mark.slow
def test_panel_mismatch_names_both_panels(tmp_path, tiny_suite_file):
    model = tmp_path / "sites.npz"
    first = genobench_cli("generate", "-g", "independent_sites", "-s", str(tiny_suite_file),
                          "-n", "5", "-o", str(tmp_path / "a.vcf"), "--save-model", str(model))
    assert first.returncode == 0, first.stderr
    other = tmp_path / "other.toml"
    other.write_text(TINY_SUITE.replace('name = "tiny"', 'name = "elsewhere"')
                     .replace("left = 30_000_000", "left = 40_000_000")
                     .replace("right = 31_000_000", "right = 41_000_000"))
    second = genobench_cli("generate", "-g", "independent_sites", "-s", str(other), "-n", "5",
                           "-o", str(tmp_path / "b.vcf"), "--model", str(model))
    assert second.returncode == 1
    error = second.stderr + second.stdout
    assert "suite 'tiny' (200 SNPs" in error and "suite 'elsewhere' (200 SNPs" in error
    assert "Traceback" not in error
    again = genobench_cli("generate", "-g", "independent_sites", "-s", str(tiny_suite_file),
                          "-n", "5", "-o", str(tmp_path / "c.vcf"), "--model", str(model))
    assert again.returncode == 0, again.stderr


def _fitted_sites(n_snps=6):
    from genobench.anchors import IndependentSites

    rng = np.random.default_rng(0)
    data = genobench.GenotypeData(rng.integers(0, 3, (20, n_snps)).astype(np.int8),
                                  np.arange(1, n_snps + 1) * 100, "1",
                                  [f"s{j}" for j in range(n_snps)],
                                  [f"i{i}" for i in range(20)])
    generator = IndependentSites()
    generator.fit(data, seed=1)
    return generator, data


def _rewrite_header(path: Path, **changes) -> None:
    with np.load(path, allow_pickle=False) as archive:
        members = {name: archive[name] for name in archive.files}
    header = json.loads(members[modelfile.HEADER_MEMBER].tobytes())
    header.update(changes)
    members[modelfile.HEADER_MEMBER] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    with open(path, "wb") as handle:
        np.savez(handle, **members)


@pytest.mark.parametrize("changes, message", [
    (dict(format_version=modelfile.FORMAT_VERSION + 1),
     "model format version 2 is newer than this genobench reads"),
    (dict(genobench_version="99.0"), "saved by genobench 99.0, newer than this genobench"),
    (dict(format="something-else"), "not a genobench model file"),
    (dict(generator="no_such_model"), "'no_such_model' model .* no installed plugin"),
])
def test_header_problems_are_one_clear_error(tmp_path, changes, message):
    generator, data = _fitted_sites()
    path = tmp_path / "m.npz"
    generator.save(path, snp_ids=data.snp_ids)
    _rewrite_header(path, **changes)
    with pytest.raises(DataError, match=message):
        Generator.load(path)


def test_wrong_generator_and_wrong_panel(tmp_path):
    generator, data = _fitted_sites()
    path = tmp_path / "m.npz"
    generator.save(path, snp_ids=data.snp_ids, suite="mine")
    with pytest.raises(DataError, match="holds a 'independent_sites' model, not 'vae'"):
        modelfile.load_model(path, generator="vae")
    with pytest.raises(DataError, match="same SNPs in another order"):
        modelfile.load_model(path, snp_ids=data.snp_ids[::-1], suite="yours")
    with pytest.raises(DataError, match=r"suite 'mine' \(6 SNPs, s0 .. s5\).*suite 'yours' "
                                        r"\(2 SNPs, x .. y\): 0 SNPs in common"):
        modelfile.load_model(path, snp_ids=["x", "y"], suite="yours")
    loaded = modelfile.load_model(path, generator="independent_sites", snp_ids=data.snp_ids)
    assert np.array_equal(loaded.generate(7, seed=3), generator.generate(7, seed=3))
    assert loaded.snp_ids_ == data.snp_ids.tolist()


def test_files_that_are_not_models(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(DataError, match="not a genobench model file"):
        Generator.load(text)
    plain = tmp_path / "plain.npz"
    np.savez(plain, x=np.zeros(3))
    with pytest.raises(DataError, match="no genobench-model header"):
        Generator.load(plain)
    with pytest.raises(DataError, match="cannot read"):
        Generator.load(tmp_path / "missing.npz")


# -- the state pair -------------------------------------------------------------------------
class _ThirdParty(Generator):
    """A plugin-style generator that relies on the default get_state / set_state."""

    name = "third_party"

    def fit(self, train, *, seed, context=None):
        self.frequencies_ = train.allele_frequencies()
        self.labels_ = np.array(["a", "bb"])
        self.settings_ = {"k": 3, "weights": (0.5, 1.5), "name": None}
        self._scratch = object()  # private: not part of the state

    def generate(self, n, *, seed, phenotypes=None):
        rng = np.random.default_rng(seed + self.settings_["k"])
        return rng.binomial(2, self.frequencies_, (n, self.frequencies_.size)).astype(np.int8)


def test_default_state_serves_simple_generators(tmp_path):
    _, data = _fitted_sites()
    generator = _ThirdParty(alpha=0.1)
    with pytest.raises(GeneratorError, match="nothing to save"):
        generator.save(tmp_path / "early.npz", snp_ids=data.snp_ids)
    generator.fit(data, seed=1)
    path = tmp_path / "third.npz"
    generator.save(path, snp_ids=data.snp_ids)
    # Not registered: restore by hand through the state pair (the registry does it otherwise).
    header = modelfile.read_header(path)
    state = dict(header.values)
    with np.load(path, allow_pickle=False) as archive:
        state.update({key: archive[member] for key, member in header.arrays.items()})
    loaded = _ThirdParty(**header.options)
    loaded.set_state(state)
    assert loaded.options == {"alpha": 0.1}
    assert loaded.labels_.tolist() == ["a", "bb"]
    assert loaded.settings_ == {"k": 3, "weights": [0.5, 1.5], "name": None}
    assert np.array_equal(loaded.generate(5, seed=2), generator.generate(5, seed=2))


def test_state_that_cannot_be_stored_is_refused(tmp_path):
    generator, data = _fitted_sites()
    generator.model_ = io.BytesIO()
    with pytest.raises(GeneratorError, match="'model_' is a BytesIO.*get_state"):
        generator.save(tmp_path / "x.npz", snp_ids=data.snp_ids)
    generator.model_ = np.array([object()])
    with pytest.raises(GeneratorError, match="object array"):
        generator.save(tmp_path / "x.npz", snp_ids=data.snp_ids)
    del generator.model_
    with pytest.raises(GeneratorError, match="SNP ids"):
        generator.save(tmp_path / "x.npz")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU here")
def test_loads_on_cuda(saved):
    folder, expected, _ = saved
    model = Generator.load(folder / "vae.npz", device="cuda")
    assert model.device_.type == "cuda"
    assert model.generate(N, seed=SEED).shape == expected["vae"].shape

