"""genobench compare judges the verdict too: a fall in fidelity or a privacy gate newly failed."""

from __future__ import annotations

import copy

from genobench.compare import compare_leaderboards


def board(fidelity=0.6, passed=True, spread=0.02):
    gate = dict(value=0.0 if passed else 1.0, reference=0.0, threshold=0.0, passed=passed)
    return dict(metrics=[], suites=[], scorecard={"s": {
        "gen": dict(fidelity=fidelity, spread=spread, reference=False,
                    privacy=dict(passed=passed, gates={"exact_copies": gate})),
        "real_holdout": dict(fidelity=1.0, spread=None, reference=True,
                             privacy=dict(passed=True, gates={}))}})


def verdicts(comparison):
    return {(c.generator, c.item): c.verdict for c in comparison.changes
            if c.kind == "scorecard"}


def test_fidelity_fall_beyond_tolerance_and_spread_is_a_regression():
    base = board()
    assert verdicts(compare_leaderboards(base, board(fidelity=0.55)))[("gen", "fidelity")] \
        == "worse"
    fallen = compare_leaderboards(base, board(fidelity=0.5))
    assert verdicts(fallen)[("gen", "fidelity")] == "regression"
    assert "fidelity fell by 0.100" in fallen.summary()
    assert ("real_holdout", "fidelity") not in verdicts(fallen)  # reference rows: not judged


def test_a_gate_passed_in_the_baseline_and_failed_now_is_a_regression():
    comparison = compare_leaderboards(board(), board(passed=False))
    assert verdicts(comparison)[("gen", "privacy:exact_copies")] == "regression"
    assert not compare_leaderboards(board(passed=False), board(passed=False)).regressions
    assert not compare_leaderboards(board(), copy.deepcopy(board())).regressions
