"""Metric descriptions: the first-party catalogue and the two ways a plugin declares one."""

import pytest

import genobench
from genobench.metrics.catalogue import catalogue, metric_info
from genobench.records import FAMILIES, MetricInfo
from genobench.registry import get_registry


def test_every_first_party_metric_reads_its_catalogue_entry():
    registry = get_registry()
    first_party = {name: metric for name, metric in registry.metrics.items()
                   if type(metric).__module__.startswith("genobench.metrics.")}
    assert set(first_party) == set(catalogue())
    for name, metric in first_party.items():
        assert metric.info is metric_info(name)
        assert metric.name == name and metric.family == metric.info.family


@pytest.mark.parametrize("name", sorted(catalogue()))
def test_catalogue_entries_are_complete(name):
    info = metric_info(name)
    assert info.label and info.description and info.family in FAMILIES
    assert info.citation and "{" not in info.citation  # every citation key resolved
    assert len(info.range) == 2
    if info.family == "privacy":
        assert info.is_gate and info.ideal is None
    else:
        assert not info.is_gate


def test_attribute_style_declaration_folds_into_info():
    class Base(genobench.Metric):
        family = "marginal"
        baseline = "permuted_frequencies"

    class Gap(Base):
        name = "mean_dosage_gap"
        direction = "lower"
        ideal = 0.0
        range = [0.0, 2.0]

    gap = Gap()
    assert gap.info == MetricInfo(name="mean_dosage_gap", label="mean_dosage_gap",
                                  family="marginal", baseline="permuted_frequencies",
                                  direction="lower", ideal=0.0, range=(0.0, 2.0))
    assert gap.family == "marginal" and gap.label == "mean_dosage_gap"
    assert Base().info.name == ""  # the base class keeps its own


def test_info_style_declaration_and_defaults():
    class Declared(genobench.Metric):
        info = genobench.MetricInfo(name="declared", family="ld", direction="lower", ideal=0.0)

    metric = Declared()
    assert metric.name == "declared" and metric.direction == "lower"
    assert metric.describe() == metric.info.to_json()
    assert genobench.Metric.info.range == (-1.0, 1.0)  # the documented default
    assert Declared.family == "ld" and Declared.label == "declared"  # the class reads its info too


def test_bad_declaration_fails_when_the_class_is_made():
    with pytest.raises(ValueError, match="direction must be one of"):
        class Wrong(genobench.Metric):  # noqa: F841
            name = "wrong"
            direction = "up"
