"""Tests of genobench/report (the public API): leaderboard data led by the scorecard, HTML /
Markdown / JSON / CSV output."""

from __future__ import annotations

import copy
import json
import math
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from genobench.report import (
    format_number,
    leaderboard_data,
    leaderboard_frame,
    render_leaderboard,
    tied_ranks,
)

SUITE = "bostau_chr25_small"
# Two marginal metrics (scored against permuted_frequencies), one LD and one structure metric
# (scored against independent_sites): every scorecard family but diversity and association.
METRIC_INFO = {
    "allele_frequency_r": dict(
        name="allele_frequency_r", label="Allele frequency r", family="marginal",
        direction="higher", ideal=1.0, range=[-1.0, 1.0], baseline="permuted_frequencies",
        description="Pearson r of per-SNP alternate allele frequencies, real vs synthetic.",
        citation="Xie et al. 2026, GigaScience"),
    "ld_decay_distance": dict(
        name="ld_decay_distance", label="LD decay distance", family="ld",
        direction="lower", ideal=0.0, range=[0.0, 1.0], baseline="independent_sites",
        description="Mean absolute difference of LD-decay curves.", citation=""),
    "fst": dict(
        name="fst", label="Fst", family="marginal", direction="lower", ideal=0.0,
        range=[0.0, 1.0], baseline="permuted_frequencies",
        description="H_T-weighted Fst between real and synthetic.",
        citation="Hudson et al. 1992"),
    "aats": dict(
        name="aats", label="AATS", family="structure", direction="target", ideal=0.5,
        range=[0.0, 1.0], baseline="independent_sites",
        description="Nearest-neighbour adversarial accuracy.", citation="Yale et al. 2020"),
}
# Seed-1 values; seed s adds (s - 1) * 0.001. The two baselines of the scorecard run with every
# seed, as runner.plan adds them to every run; they are never best on a metric.
VALUES = {
    "gen_a": dict(allele_frequency_r=0.991, ld_decay_distance=0.010, fst=0.020, aats=0.30),
    "gen_b": dict(allele_frequency_r=0.950, ld_decay_distance=0.020, fst=0.005, aats=0.62),
    "gen_c": dict(allele_frequency_r=0.900, ld_decay_distance=0.030, fst=0.010, aats=0.55),
    "independent_sites": dict(allele_frequency_r=0.970, ld_decay_distance=0.100, fst=0.030,
                              aats=0.95),
    "permuted_frequencies": dict(allele_frequency_r=0.200, ld_decay_distance=0.110, fst=0.300,
                                 aats=0.97),
}
BASELINES = ("independent_sites", "permuted_frequencies")
# The reference row runs once per suite (the first seed) and is scored on every reference
# draw: each metric's value is their mean, ``draws`` their values (value -/+ DRAW_SPREAD). It
# would win everything if ranked.
REFERENCE = "real_holdout"
REFERENCE_VALUES = dict(allele_frequency_r=0.999, ld_decay_distance=0.001, fst=0.001, aats=0.5)
DRAW_SPREAD = 0.0005
FAILED = "broken"
ERROR = "GeneratorError: fit failed | CUDA out of memory"


def make_record(suite: str, generator: str, seed: int, *, values: dict | None = None,
                error: str | None = None, reference: bool = False, curves: bool = True,
                draws: bool = False) -> dict:
    """One job record shaped like genobench.results documents it (``draws``: a reference
    record's values of each reference draw)."""
    rng = np.random.default_rng(seed + 17 * len(generator))
    timing = {phase: dict(seconds=seconds * seed, cpu_seconds=seconds, peak_rss_mb=rss)
              for phase, seconds, rss in (("fit", 12.5, 850.0), ("generate", 0.8, 910.0),
                                          ("evaluate", 3.2, 400.0))}
    record = dict(
        schema=1, suite=suite, generator=generator, seed=seed,
        status="failed" if error else "ok", error=error, error_detail=None, metrics={},
        curves={}, metric_info=METRIC_INFO, timing=timing,
        generator_info=dict(description=f"The {generator} model.", citation="Doe 2024",
                            options={}, provider="genobench_plugins.test",
                            is_reference=reference, supports_phenotypes=False),
        suite_info=dict(sizes=dict(train=800, validation=100, test=100), n_snps=2000,
                        chromosomes=["25"], cache_key="abc123"),
        provenance=dict(timestamp=f"2026-01-0{seed}T10:00:00+0000",
                        software=dict(python="3.11.7", numpy="1.26.4", genobench="0.1.0"),
                        parameters=dict(seed=seed), machine=dict(hostname="node1", cpus=16),
                        command="genobench run suites/small.toml"))
    if error:
        return record
    for name, value in (values or {}).items():
        record["metrics"][name] = dict(value=value + (seed - 1) * 0.001, note=None)
        if draws:
            record["metrics"][name]["draws"] = [
                value + (seed - 1) * 0.001 + k * DRAW_SPREAD for k in (-1, 0, 1)]
    if curves:
        distance = np.logspace(3, 6, 8)
        real_ld = 0.3 * np.exp(-distance / 2e5) + 0.02
        real_af = rng.uniform(0, 1, 300)
        record["curves"] = {
            "ld_decay_distance": dict(distance_bp=distance.tolist(), real=real_ld.tolist(),
                                      synthetic=(real_ld * rng.uniform(0.6, 1.1)).tolist()),
            "allele_frequency_r": dict(
                real=real_af.tolist(),
                synthetic=np.clip(real_af + rng.normal(0, 0.05, 300), 0, 1).tolist()),
        }
    return record


def make_records(seeds=(1, 2), suites=(SUITE,), curves: bool = True) -> list[dict]:
    """Three generators and the two baselines x ``seeds``, the reference row once with its
    reference draws (the first seed, as runner.plan runs it), and a generator that always
    fails."""
    records = []
    for suite in suites:
        for seed in seeds:
            for generator, values in VALUES.items():
                records.append(make_record(suite, generator, seed, values=values, curves=curves))
            if seed == seeds[0]:
                records.append(make_record(suite, REFERENCE, seed, values=REFERENCE_VALUES,
                                           curves=curves, reference=True, draws=True))
            records.append(make_record(suite, FAILED, seed, error=ERROR))
    return records


def scaled(metric: str, generator_value: float, base_value: float) -> float:
    """The scorecard's S of one metric by its formula, S = (D_base - D_gen) / (D_base - D_ref),
    D the distance to the ideal, D_ref the mean over the reference draws (clipped to [-1, 1])."""
    info = METRIC_INFO[metric]

    def distance(value):
        if info["direction"] == "higher":
            return info["ideal"] - value
        if info["direction"] == "lower":
            return value - info["ideal"]
        return abs(value - info["ideal"])

    reference = np.mean([distance(REFERENCE_VALUES[metric] + k * DRAW_SPREAD)
                         for k in (-1, 0, 1)])
    base = distance(base_value)
    return float(np.clip((base - distance(generator_value)) / (base - reference), -1, 1))


class Tables(HTMLParser):
    """Collects every HTML table as a list of rows; a row is (tr attrs, [(cell attrs, text)])."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append((dict(attrs), []))
        elif tag in ("td", "th"):
            self._cell = (dict(attrs), [])
            self.tables[-1][-1][1].append(self._cell)

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1].append(data)

    @classmethod
    def parse(cls, html: str) -> list[list[tuple[dict, list[tuple[dict, str]]]]]:
        parser = cls()
        parser.feed(html)
        return [[(attrs, [(a, "".join(t).strip()) for a, t in cells]) for attrs, cells in table]
                for table in parser.tables]


def suite_table(html: str) -> list[tuple[dict, list[tuple[dict, str]]]]:
    """The first per-suite leaderboard table (its header row carries data-metric)."""
    for table in Tables.parse(html):
        if any("data-metric" in attrs for attrs, _ in table[0][1]):
            return table
    raise AssertionError("no suite table in the HTML")


def markdown_rows(markdown: str, section: str, table: int = 0) -> list[str]:
    """Lines of the ``table``-th table of the Markdown section headed ``section`` (header and
    rule dropped)."""
    body = markdown.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    tables, previous = [], False
    for line in body.splitlines():
        if line.startswith("|"):
            if not previous:
                tables.append([])
            tables[-1].append(line)
        previous = line.startswith("|")
    return tables[table][2:]


def plot_titles(html: str) -> list[str]:
    """Titles of the embedded PNG plots, in page order."""
    return re.findall(r'<img src="data:image/png;base64,[^"]+" alt="([^"]+), suite ', html)


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


@pytest.fixture(scope="module")
def records():
    return make_records()


@pytest.fixture(scope="module")
def rendered(records, tmp_path_factory):
    paths = render_leaderboard(records, tmp_path_factory.mktemp("board"), title="Test board")
    return dict(paths=paths, html=paths["html"].read_text(encoding="utf-8"),
                md=paths["md"].read_text(encoding="utf-8"))


def test_files_written(rendered, tmp_path):
    paths = rendered["paths"]
    assert set(paths) == {"html", "md", "json", "csv"}
    for fmt, path in paths.items():
        assert path.name == f"leaderboard.{fmt}" and path.stat().st_size > 0
    assert "<title>Test board</title>" in rendered["html"]
    assert rendered["md"].startswith("# Test board")


def test_html_is_self_contained(rendered):
    html = rendered["html"]
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert not re.search(r"<link\b|<script[^>]+src|@import|url\(\s*['\"]?https?:", html, re.I)
    # the scorecard first; LD decay, allele frequency, AATS, quality against cost
    assert plot_titles(html) == ["Scorecard", "LD decay", "Allele frequencies",
                                 "Adversarial accuracy (AATS)", "Quality against cost"]
    assert "addEventListener" in html and "<style>" in html


def test_best_cell_by_direction(records, rendered):
    suite = leaderboard_data(records)["suites"][0]
    best = {name: [row["generator"] for row in suite["rows"] if row["cells"][name]["best"]]
            for name in suite["metrics"]}
    # higher: gen_a; lower: gen_b on fst, gen_a on LD; target 0.5: gen_c (0.55) beats 0.62, 0.30.
    assert best == dict(allele_frequency_r=["gen_a"], ld_decay_distance=["gen_a"], fst=["gen_b"],
                        aats=["gen_c"])

    table = suite_table(rendered["html"])
    header = [attrs.get("data-metric") for attrs, _ in table[0][1]]
    marked = {}
    for attrs, cells in table[1:]:
        for column, (cell_attrs, _) in enumerate(cells):
            if "best" in cell_attrs.get("class", "").split():
                marked[header[column]] = attrs["data-generator"]
    assert marked == {name: winners[0] for name, winners in best.items()}

    rows = {line.split("|")[1].strip(): line for line in markdown_rows(rendered["md"],
                                                                        f"Suite {SUITE}")}
    assert "**0.0055 ± 0.00071**" in rows["gen_b"]
    assert "**0.5505 ± 0.00071**" in rows["gen_c"]
    assert "**" not in rows["gen_c"].split("|")[1] + rows["gen_c"].split("|")[3]


RANKED = ["gen_c", "gen_b", "gen_a", *BASELINES, FAILED]  # by fidelity, the failed one last


def test_reference_excluded_from_best_and_ranking(records, rendered):
    data = leaderboard_data(records)
    reference = next(row for row in data["suites"][0]["rows"] if row["is_reference"])
    assert reference["generator"] == REFERENCE
    assert not any(cell["best"] or cell["rank"] is not None
                   for cell in reference["cells"].values())
    assert REFERENCE not in [entry["generator"] for entry in data["ranking"]]
    assert data["scorecard"][SUITE][REFERENCE]["reference"] is True

    table = suite_table(rendered["html"])
    row = next(attrs for attrs, _ in table[1:] if attrs["data-generator"] == REFERENCE)
    assert "reference" in row["class"].split()


def test_ranking_is_the_scorecard(records, rendered):
    """The ranking replaces the mean rank: generators by fidelity (the mean of the marginal,
    ld and structure family scores), every job failed last; no rank averaging."""
    data = leaderboard_data(records)
    assert [entry["generator"] for entry in data["ranking"]] == RANKED
    ranking = {entry["generator"]: entry for entry in data["ranking"]}
    for position, entry in enumerate(data["ranking"], start=1):
        assert entry["position"] == position
        assert set(entry) == {"position", "generator", "fidelity", "spread", "families",
                              "privacy_passed", "suites", "baseline", "failed_jobs"}
        # no privacy gate among these metrics: not assessed, for everyone
        assert entry["privacy_passed"] is None
        assert entry["baseline"] == (entry["generator"] in BASELINES)
    fidelities = [entry["fidelity"] for entry in data["ranking"][:-1]]
    assert fidelities == sorted(fidelities, reverse=True)
    assert ranking[FAILED]["fidelity"] is None and ranking[FAILED]["failed_jobs"] == 2
    # each family by the formula, from the seed means (seed 2 adds 0.001)
    gen_a, base, marginal = VALUES["gen_a"], VALUES["independent_sites"], \
        VALUES["permuted_frequencies"]
    families = dict(
        marginal=np.median([scaled(m, gen_a[m] + 0.0005, marginal[m] + 0.0005)
                            for m in ("allele_frequency_r", "fst")]),
        ld=scaled("ld_decay_distance", gen_a["ld_decay_distance"] + 0.0005,
                  base["ld_decay_distance"] + 0.0005),
        structure=scaled("aats", gen_a["aats"] + 0.0005, base["aats"] + 0.0005))
    assert ranking["gen_a"]["families"] == dict(
        {name: pytest.approx(value) for name, value in families.items()},
        diversity=None, association=None)
    assert ranking["gen_a"]["fidelity"] == pytest.approx(np.mean(list(families.values())))
    # the baselines sit at 0 on the families they anchor
    assert ranking["independent_sites"]["families"]["ld"] == 0.0
    assert ranking["permuted_frequencies"]["families"]["marginal"] == 0.0
    assert data["scorecard"][SUITE]["gen_a"]["fidelity"] == ranking["gen_a"]["fidelity"]
    assert "S = (D_base - D_gen) / (D_base - D_ref)" in data["formula"]
    assert data["resolution"][SUITE]["fst"]["resolves"] is True

    # the first section of the page is the scorecard, in ranking order
    scorecard_table = Tables.parse(rendered["html"])[0]
    assert [cells[1][1].split()[0] for _, cells in scorecard_table[1:]] == RANKED
    assert rendered["html"].index("<h2>Scorecard</h2>") < rendered["html"].index(
        f"Suite {SUITE}")
    rows = markdown_rows(rendered["md"], "Scorecard")
    assert [line.split("|")[2].split()[0] for line in rows] == RANKED


def test_privacy_gate_failures_rank_after_the_generators_that_pass(tmp_path):
    """A generator failing a privacy gate follows every generator that passes, whatever its
    fidelity; one whose gates were not assessed (every job failed) sits between them."""
    records = make_records(seeds=(1, 2), curves=False)
    copies = {"gen_a": 0.0, "gen_b": 0.0, "gen_c": 0.4,  # gen_c copies training individuals
              "independent_sites": 0.0, "permuted_frequencies": 0.0, REFERENCE: 0.0}
    for record in records:
        record["metric_info"] = dict(record["metric_info"], exact_copies=dict(
            name="exact_copies", label="Exact copies", family="privacy", direction="target",
            ideal=None, range=[0.0, 1.0], risk="higher", tolerance=0.0,
            description="Share of synthetic individuals copying a training one."))
        if record["status"] == "ok":
            value = copies[record["generator"]]
            record["metrics"]["exact_copies"] = dict(value=value, note=None)
            if record["generator"] == REFERENCE:
                record["metrics"]["exact_copies"]["draws"] = [value] * 3
    data = leaderboard_data(records)
    order = [entry["generator"] for entry in data["ranking"]]
    assert order == ["gen_b", "gen_a", *BASELINES, "gen_c", FAILED]
    ranking = {entry["generator"]: entry for entry in data["ranking"]}
    assert ranking["gen_c"]["privacy_passed"] is False
    assert ranking["gen_b"]["privacy_passed"] is True and ranking[FAILED]["privacy_passed"] is None
    # its fidelity is the best of all, and no rank is averaged from the gate
    assert ranking["gen_c"]["fidelity"] == max(e["fidelity"] for e in data["ranking"]
                                               if e["fidelity"] is not None)
    gate = data["scorecard"][SUITE]["gen_c"]["privacy"]["gates"]["exact_copies"]
    assert gate["passed"] is False and gate["value"] == pytest.approx(0.4)
    suite = data["suites"][0]
    assert not any(row["cells"]["exact_copies"]["best"] for row in suite["rows"])
    # the suite's rows: gate-passing generators first, by fidelity; the reference last
    assert [row["generator"] for row in suite["rows"]] == [
        "gen_b", "gen_a", *BASELINES, "gen_c", FAILED, REFERENCE]
    html = render_leaderboard(records, tmp_path)["html"].read_text("utf-8")
    assert "Privacy gates · " + SUITE in html and "✗ fails a gate" in html


def test_ties_share_average_rank_across_suites():
    records = make_records(seeds=(1,), suites=("s1", "s2"), curves=False)
    for record in records:  # gen_c equals gen_b everywhere in s2
        if record["suite"] == "s2" and record["generator"] == "gen_c":
            record["metrics"] = copy.deepcopy(next(
                r for r in records if r["suite"] == "s2" and r["generator"] == "gen_b")["metrics"])
    data = leaderboard_data(records)
    s2 = {row["generator"]: row for row in data["suites"][1]["rows"]}
    assert s2["gen_b"]["cells"]["fst"]["rank"] == s2["gen_c"]["cells"]["fst"]["rank"] == 1.5
    assert s2["gen_b"]["cells"]["fst"]["best"] and s2["gen_c"]["cells"]["fst"]["best"]
    # across suites the ranking averages fidelity (no ranks): gen_c equals gen_b in s2
    entries = {e["generator"]: e for e in data["ranking"]}
    entry = entries["gen_c"]
    assert set(entry["suites"]) == {"s1", "s2"}
    assert entry["suites"]["s2"] == pytest.approx(entries["gen_b"]["suites"]["s2"])
    assert entry["fidelity"] == pytest.approx(np.mean(list(entry["suites"].values())))


def test_failed_row_shows_reason(records, rendered):
    row = next(r for r in leaderboard_data(records)["suites"][0]["rows"]
               if r["generator"] == FAILED)
    assert row["status"] == "failed" and row["errors"][0]["error"] == ERROR
    table = suite_table(rendered["html"])
    cells = next(cells for attrs, cells in table[1:] if attrs["data-generator"] == FAILED)
    error_cell = next(cell for cell in cells if "error" in cell[0].get("class", ""))
    assert ERROR in error_cell[1] and error_cell[0]["colspan"] == "4"

    line = next(line for line in markdown_rows(rendered["md"], f"Suite {SUITE}")
                if line.startswith(f"| {FAILED}"))
    assert "**failed**: GeneratorError: fit failed \\| CUDA out of memory" in line
    assert unescaped_pipes(line) == 10  # generator + 4 metrics + 4 timings


def test_one_markdown_row_per_generator(rendered):
    rows = markdown_rows(rendered["md"], f"Suite {SUITE}")
    names = [re.split(r"(?<!\\)\|", line)[1].split(" — ")[0].strip() for line in rows]
    # by fidelity, the reference last
    assert names == [*RANKED, "*real_holdout* (reference)"]
    assert len({unescaped_pipes(line) for line in rows}) == 1
    assert len(markdown_rows(rendered["md"], "Scorecard")) == len(RANKED)


def test_mean_and_std_over_seeds(records, rendered, tmp_path):
    cell = next(r for r in leaderboard_data(records)["suites"][0]["rows"]
                if r["generator"] == "gen_a")["cells"]["allele_frequency_r"]
    assert cell["n"] == 2 and cell["mean"] == pytest.approx(0.9915)
    assert cell["std"] == pytest.approx(math.sqrt(0.0005**2 * 2))
    assert ">0.9915 ± 0.00071<" in rendered["html"]

    paths = render_leaderboard(make_records(seeds=(3,), curves=False), tmp_path)
    markdown = paths["md"].read_text(encoding="utf-8")
    assert "±" not in "".join(markdown_rows(markdown, f"Suite {SUITE}"))
    assert "0.993" in markdown


def test_malicious_plugin_text_is_escaped(tmp_path):
    evil = "<script>alert(1)</script>"
    records = make_records(seeds=(1,))
    for record in records:
        if record["generator"] == "gen_a":
            record["generator"] = evil
            record["generator_info"]["description"] = '<img src=x onerror="alert(2)"> a|b'
            record["metrics"]["fst"] = dict(value=None, note='<b>bad</b> "quoted"')
        if record["generator"] == FAILED:
            record["error"] = "boom | <script>alert(3)</script>\nsecond line"
    paths = render_leaderboard(records, tmp_path)
    html = paths["html"].read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>bad" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<script>") == 1  # the page's own sorting script

    markdown = paths["md"].read_text(encoding="utf-8")
    # what Markdown would read as HTML is backslash-escaped (CommonMark shows it as text)
    assert not re.search(r"(?<!\\)<(script|img|b)", markdown)
    assert "\\<script>alert(1)\\</script>" in markdown
    rows = markdown_rows(markdown, f"Suite {SUITE}")
    assert len(rows) == 7 and len({unescaped_pipes(line) for line in rows}) == 1
    assert "boom \\| \\<script>alert(3)\\</script> second line" in markdown
    glossary = markdown_rows(markdown, "Generators")
    assert any("a\\|b" in line for line in glossary)
    assert len({unescaped_pipes(line) for line in glossary}) == 1


def test_missing_value_shows_note(tmp_path):
    records = make_records(seeds=(1,), curves=False)
    records[0]["metrics"]["fst"] = dict(value=None, note="needs the training split")
    html = render_leaderboard(records, tmp_path)["html"].read_text(encoding="utf-8")
    table = suite_table(html)
    header = [attrs.get("data-metric") for attrs, _ in table[0][1]]
    cells = next(cells for attrs, cells in table[1:]
                 if attrs["data-generator"] == records[0]["generator"])
    attrs, text = cells[header.index("fst")]
    assert text == "n/a" and "needs the training split" in attrs["title"]


@pytest.mark.parametrize("damage", ["none", "partial", "malformed"])
def test_missing_curves_do_not_crash(tmp_path, damage):
    records = make_records(seeds=(1,), curves=damage != "none")
    for record in records:
        if damage == "partial" and record["generator"] != "gen_a":
            record["curves"] = {}
        if damage == "malformed" and record["curves"]:
            record["curves"]["ld_decay_distance"]["real"] = [0.1, None]  # wrong length
            record["curves"]["allele_frequency_r"] = {"real": "oops"}
        if damage == "none":
            record.pop("curves")
            record["metrics"].pop("aats", None)
    paths = render_leaderboard(records, tmp_path)
    html = paths["html"].read_text(encoding="utf-8")
    expected = dict(none=0, partial=3, malformed=1)[damage]
    # The scorecard and quality against cost need values and timings only: always there.
    assert html.count("data:image/png;base64,") == expected + 2
    assert {"Scorecard", "Quality against cost"} <= set(plot_titles(html))


def test_json_round_trips(records, rendered):
    loaded = json.loads(rendered["paths"]["json"].read_text(encoding="utf-8"))
    assert loaded == leaderboard_data(records)
    assert loaded["suites"][0]["rows"][0]["cells"]["fst"].keys() >= {"mean", "std", "n"}


def test_csv_is_long_format(records, rendered):
    frame = pd.read_csv(rendered["paths"]["csv"])
    assert list(frame.columns) == list(leaderboard_frame(records).columns)
    ok = frame[frame.status == "ok"]
    # (generators and baselines x seeds + the reference once) x metrics
    assert len(ok) == (5 * 2 + 1) * 4
    failed = frame[frame.status == "failed"]
    assert len(failed) == 2 and failed.metric.isna().all() and (failed.error == ERROR).all()


def test_format_number():
    assert [format_number(v) for v in (0.98712, 0.5, 123.456, 12345.6, 1.234e-5, 0, None)] == [
        "0.9871", "0.5", "123.5", "12,346", "1.23e-05", "0", "n/a"]


# -- honest statistics, quality against cost, the optional plots ----------------------------

def add_pca_and_gwas(records: list[dict]) -> list[dict]:
    """Give every successful record PCA points and GWAS curves in the documented formats (PCA
    as columns for gen_a, gen_b and the reference, as a list of points for gen_c)."""
    for record in records:
        if record["status"] != "ok":
            continue
        layout = "points" if record["generator"] == "gen_c" else "columns"
        rng = np.random.default_rng(record["seed"] + len(record["generator"]))
        real, synthetic = rng.normal(size=(80, 2)), rng.normal(0.3, 1.1, size=(60, 2))
        if layout == "columns":
            pca = dict(real_pc1=real[:, 0].tolist(), real_pc2=real[:, 1].tolist(),
                       synthetic_pc1=synthetic[:, 0].tolist(),
                       synthetic_pc2=synthetic[:, 1].tolist(), explained_variance=[0.12, 0.05])
        else:
            pca = dict(real=real.tolist(), synthetic=synthetic.tolist())
        chromosomes = ["chr1"] * 150 + ["chr2"] * 100 + ["chr10"] * 50
        position = np.concatenate([np.sort(rng.uniform(0, n * 1e5, n)) for n in (150, 100, 50)])
        real_logp = -np.log10(rng.uniform(size=300))
        real_logp[40] = 12.0
        record["curves"]["pca_w2_real_basis"] = pca  # what the PCA plot reads
        record["curves"]["gwas_beta_r"] = dict(
            position=position.tolist(), chromosome=chromosomes, real_logp=real_logp.tolist(),
            synthetic_logp=(real_logp * rng.uniform(0.3, 1.0, 300)).tolist())
        record["metrics"]["gwas_beta_r"] = dict(value=0.8, note=None)
    return records


def test_tied_ranks_within_spread():
    # Exact ties only with no spread; a chain of small steps does not tie first and last.
    assert tied_ranks({"a": (0.1, 0.0), "b": (0.2, 0.0), "c": (0.1, 0.0)}) == dict(
        a=1.5, c=1.5, b=3.0)
    assert tied_ranks({"a": (0.10, 0.03), "b": (0.12, 0.01), "c": (0.14, 0.01)}) == dict(
        a=1.5, b=1.5, c=3.0)
    assert tied_ranks({"a": (0.1, 0.0), "b": (0.15, 0.06), "x": (math.inf, 0.0),
                       "y": (math.inf, 0.0)}) == dict(a=1.5, b=1.5, x=3.5, y=3.5)


def test_ranks_tie_inside_seed_spread(tmp_path):
    records = make_records(seeds=(1, 2, 3), curves=False)
    for record in records:  # gen_c's Fst now differs from gen_b's by less than its spread
        if record["generator"] == "gen_c":
            record["metrics"]["fst"]["value"] = 0.006 + (record["seed"] - 2) * 0.004
    data = leaderboard_data(records)
    rows = {row["generator"]: row for row in data["suites"][0]["rows"]}
    fst = {name: rows[name]["cells"]["fst"] for name in (*VALUES, FAILED)}
    assert fst["gen_c"]["std"] == pytest.approx(0.004)
    assert fst["gen_b"]["rank"] == fst["gen_c"]["rank"] == 1.5
    assert fst["gen_b"]["best"] and fst["gen_c"]["best"] and not fst["gen_a"]["best"]
    assert fst["gen_a"]["rank"] == 3.0 and fst[FAILED]["rank"] == 6.0  # the baselines 4 and 5
    table = suite_table(render_leaderboard(records, tmp_path)["html"].read_text("utf-8"))
    column = [attrs.get("data-metric") for attrs, _ in table[0][1]].index("fst")
    best = [attrs["data-generator"] for attrs, cells in table[1:]
            if "best" in cells[column][0].get("class", "")]
    assert sorted(best) == ["gen_b", "gen_c"]


def test_noise_floor_marks_cells_as_good_as_real(tmp_path):
    records = make_records(seeds=(1, 2), curves=False)
    for record in records:  # gen_a's AATS and gen_b's Fst within their seed spread of real data
        if record["generator"] == "gen_a":
            record["metrics"]["aats"]["value"] = 0.5 + (record["seed"] - 1) * 0.001
        if record["generator"] == "gen_b":
            record["metrics"]["fst"]["value"] = 0.001 + (record["seed"] - 1) * 0.001
    suite = leaderboard_data(records)["suites"][0]
    assert suite["noise_floor"]["fst"]["generator"] == REFERENCE
    assert suite["noise_floor"]["fst"]["mean"] == pytest.approx(0.001)  # the draws' mean
    assert suite["noise_floor"]["aats"]["distance"] == pytest.approx(0.0)
    floor = {(row["generator"], name) for row in suite["rows"]
             for name, cell in row["cells"].items() if cell["at_floor"]}
    assert floor == {("gen_a", "aats"), ("gen_b", "fst")}

    paths = render_leaderboard(records, tmp_path)
    table = suite_table(paths["html"].read_text("utf-8"))
    header = [attrs.get("data-metric") for attrs, _ in table[0][1]]
    marked = {(attrs["data-generator"], header[column]) for attrs, cells in table[1:]
              for column, (cell_attrs, _) in enumerate(cells)
              if "at-floor" in cell_attrs.get("class", "").split()}
    assert marked == floor
    reference = next(cells for attrs, cells in table[1:]
                     if attrs["data-generator"] == "real_holdout")
    assert "noise floor" in reference[header.index("fst")][0]["title"]
    rows = {line.split("|")[1].strip(): line
            for line in markdown_rows(paths["md"].read_text("utf-8"), f"Suite {SUITE}")}
    assert "**0.0015 ± 0.00071**†" in rows["gen_b"] and rows["gen_a"].count("†") == 1
    assert "† marks a value within it" in paths["md"].read_text("utf-8")


def test_quality_against_cost_pareto_front(records, rendered):
    suite = leaderboard_data(records)["suites"][0]
    points = {point["generator"]: point for point in suite["pareto"]}
    # Every job costs the same (fit 12.5 s x seed + generate 0.8 s x seed), so the best
    # fidelity alone is on the front; failed and reference rows are not points.
    assert set(points) == {"gen_a", "gen_b", "gen_c", *BASELINES}
    assert points["gen_c"]["cost_s"] == pytest.approx((12.5 + 0.8) * 1.5)
    ranking = {entry["generator"]: entry for entry in leaderboard_data(records)["ranking"]}
    assert points["gen_c"]["fidelity"] == pytest.approx(ranking["gen_c"]["fidelity"])
    assert [name for name, point in points.items() if point["front"]] == ["gen_c"]

    records = copy.deepcopy(records)
    for record in records:  # gen_a becomes the fastest: a second point on the front
        if record["generator"] == "gen_a":
            record["timing"]["fit"]["seconds"] = 0.5
    suite = leaderboard_data(records)["suites"][0]
    assert [(p["generator"], p["front"]) for p in suite["pareto"]][:2] == [
        ("gen_a", True), ("gen_c", True)]
    assert sum(p["front"] for p in suite["pareto"]) == 2

    table = next(t for t in Tables.parse(rendered["html"])
                 if [text for _, text in t[0][1]][:2] == ["Generator", "Fidelity"])
    assert {cells[0][1]: cells[3][1] for _, cells in table[1:]} == {
        "gen_c": "✓ on the front", "gen_b": "–", "gen_a": "–", "independent_sites": "–",
        "permuted_frequencies": "–"}
    lines = markdown_rows(rendered["md"], f"Suite {SUITE}", table=1)
    fidelity = f"{ranking['gen_c']['fidelity']:.2f}"
    assert lines[0].startswith(f"| gen_c | {fidelity} | 19.95 | yes |")


def test_pca_and_manhattan_plots_from_documented_curves(tmp_path):
    records = add_pca_and_gwas(make_records(seeds=(1,), curves=False))
    html = render_leaderboard(records, tmp_path)["html"].read_text("utf-8")
    assert plot_titles(html) == [
        "Scorecard", "Population structure (PCA)", "Adversarial accuracy (AATS)",
        "GWAS (mirrored Manhattan)", "Quality against cost"]
    assert 'data-metric="gwas_beta_r"' in html


def test_pca_and_manhattan_skipped_when_absent_or_malformed(tmp_path):
    records = add_pca_and_gwas(make_records(seeds=(1,), curves=False))
    for record in records:
        if record["status"] == "ok":
            record["curves"]["pca_w2_real_basis"] = dict(real=[[0.1, "x"]], synthetic=[[1, 2]])
            record["curves"]["gwas_beta_r"]["chromosome"] = ["1"]  # wrong length
    titles = plot_titles(render_leaderboard(records, tmp_path)["html"].read_text("utf-8"))
    assert titles == ["Scorecard", "Adversarial accuracy (AATS)", "Quality against cost"]


def test_metric_without_any_value_is_no_column(tmp_path):
    records = make_records(seeds=(1,), curves=False)
    for record in records:
        record["metric_info"] = dict(record["metric_info"], gwas_beta_r=dict(
            name="gwas_beta_r", label="GWAS beta r", family="association", direction="higher",
            ideal=1.0))
        if record["status"] == "ok":
            record["metrics"]["gwas_beta_r"] = dict(
                value=None, note="not applicable: the suite has no <phenotypes>")
    suite = leaderboard_data(records)["suites"][0]
    assert "gwas_beta_r" not in suite["metrics"]
    assert suite["not_applicable"] == [dict(
        metric="gwas_beta_r", note="not applicable: the suite has no <phenotypes>")]
    paths = render_leaderboard(records, tmp_path)
    html, markdown = (paths[fmt].read_text("utf-8") for fmt in ("html", "md"))
    assert 'data-metric="gwas_beta_r"' not in html
    assert ("Not applicable here (no value for any generator): "
            '<span title="not applicable: the suite has no &lt;phenotypes&gt;">GWAS beta r</span>'
            in html)
    assert ("Not applicable here (no value for any generator): GWAS beta r (not applicable: "
            "the suite has no \\<phenotypes>).") in markdown
