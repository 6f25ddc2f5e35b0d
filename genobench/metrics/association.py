"""Trait-association metrics: do synthetic genotypes keep the genotype-phenotype link?

Synthetic individuals carry phenotypes when the generator was conditioned on the test split's
phenotypes, or, on simulated suites, when the runner could compute them from the true causal
model (every causal variant on the panel). Otherwise these metrics report "not applicable"
rather than a number. The traits analysed are those with causal variants in the suite's truth
(adjusted for their declared covariates, such as sex), or every phenotype column when the
truth is unknown. With several traits a metric is the mean over them (each in the note).

Metrics (family "association"): ``gwas_beta_r`` (Pearson r of per-SNP GWAS betas, real vs
synthetic; its curves hold the mirrored Manhattan plot), ``gwas_hit_overlap`` (F1 of the
Bonferroni-significant SNPs matched within a window), ``causal_recovery`` (F1 of the synthetic
hits against the true causal variants, simulated suites only), ``tstr_r`` and ``tstr_mse``
(GBLUP trained on synthetic, tested on real; an MLP and train-on-real in the note) and
``h2_difference`` (Haseman-Elston SNP heritability, real vs synthetic).

GWAS (Xie et al. 2026 evaluate per-SNP marginal OLS). For each SNP ``x`` the model

The numerical work is in :mod:`genobench.kernels.gwas` (exact blocked GWAS, how it matches
PLINK 2 ``--glm``) and :mod:`genobench.kernels.prediction` (GRM, Haseman-Elston, GBLUP, MLP).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..kernels import one_thread
from ..kernels.gwas import Design, GwasResult, gwas
from ..kernels.prediction import (
    gblup_predict,
    haseman_elston,
    mlp_predict,
    standardized,
    vanraden_grm,
)
from ..traits import TRUTH_KEY, causal_index
from .base import EvaluationContext, Metric, MetricResult
from .catalogue import metric_info
from .fidelity import pearson_r, scatter_subsample
from .options import GwasOptions

#: Non-significant SNPs kept in the Manhattan-plot curves (significant ones are all kept).
MANHATTAN_POINTS = 2000


def _adjusted(phenotypes: pd.DataFrame, trait: str, covariates: list[str]) -> np.ndarray:
    """The trait with its covariates regressed out (OLS with intercept, within the set)."""
    design = Design(phenotypes[trait].to_numpy(),
                     phenotypes[covariates].to_numpy() if covariates else None)
    values = np.full(design.keep.size, np.nan)
    values[design.keep] = design.v[:, 0]
    return values


# -- which traits, and whether synthetic individuals have them -------------------------------

def _truth_traits(context: EvaluationContext) -> dict:
    return (context.truth or {}).get(TRUTH_KEY) or {}


def association_traits(context: EvaluationContext) -> list[tuple[str, list[str]]]:
    """(trait, covariates) pairs to analyse: traits with causal variants in the truth, else
    every phenotype column of the real individuals (without covariates)."""
    real = context.real.trait_names
    truth = _truth_traits(context)
    if truth:
        return [(name, [c for c in (t.get("covariates") or {}) if c in real])
                for name, t in truth.items() if t.get("n_causal") and name in real]
    return [(name, []) for name in real]


def _missing_reason(context: EvaluationContext, trait: str, covariates: list[str]) -> str | None:
    """Why the synthetic individuals cannot be analysed for ``trait``, or None if they can."""
    names = context.synthetic.trait_names
    lacking = [name for name in [trait, *covariates] if name not in names
               or not np.isfinite(context.synthetic.phenotypes[name].to_numpy()).any()]
    if not lacking:
        return None
    truth = _truth_traits(context).get(trait)
    if truth is None:
        return (f"synthetic individuals have no {lacking[0]!r} values: the generator is not "
                "conditioned on phenotypes and the suite's causal model is unknown")
    _, on_panel = causal_index(context.synthetic, truth)
    if not on_panel.all():
        return (f"synthetic individuals have no {trait!r} values: the generator is not "
                f"conditioned on phenotypes and {int((~on_panel).sum())} of {on_panel.size} "
                "causal variants are not on the SNP panel")
    return f"synthetic individuals have no {lacking[0]!r} values"


def usable_traits(context: EvaluationContext):
    """(traits that both sets carry, notes on those left out, or a reason nothing applies)."""
    traits = association_traits(context)
    if not traits:
        if context.real.trait_names:
            return [], [], "no trait of the suite has causal variants (nothing to associate)"
        return [], [], "the suite has no phenotypes"
    usable, skipped = [], []
    for trait, covariates in traits:
        reason = _missing_reason(context, trait, covariates)
        if reason is None:
            usable.append((trait, covariates))
        else:
            skipped.append(f"{trait}: not applicable ({reason})")
    if not usable:
        reason = _missing_reason(context, *traits[0])
        return [], skipped, reason
    return usable, skipped, None


def trait_gwas(context: EvaluationContext, which: str, trait: str,
               covariates: list[str]) -> GwasResult:
    """GWAS of ``trait`` in ``context.<which>`` ("real" or "synthetic"), cached per context."""
    data = getattr(context, which)

    def compute():
        table = data.phenotypes
        return gwas(data.dosages, table[trait].to_numpy(),
                    table[covariates].to_numpy() if covariates else None, device=context.device)

    return context.cached(f"gwas/{which}/{trait}/{','.join(covariates)}", compute)


def _near(chromosomes_a, positions_a, chromosomes_b, positions_b, window: float) -> np.ndarray:
    """bool (len a): whether each a has some b on its chromosome within ``window`` bp."""
    found = np.zeros(len(positions_a), dtype=bool)
    for chromosome in np.unique(chromosomes_a):
        mine = np.flatnonzero(chromosomes_a == chromosome)
        theirs = np.sort(positions_b[chromosomes_b == chromosome])
        if theirs.size == 0:
            continue
        left = np.searchsorted(theirs, positions_a[mine] - window, side="left")
        right = np.searchsorted(theirs, positions_a[mine] + window, side="right")
        found[mine] = right > left
    return found


def _f1(n_a: int, a_matched: int, n_b: int, b_matched: int) -> float:
    """F1 of two sets matched within a window: recall over a, precision over b."""
    if n_a == 0 or n_b == 0:
        return 0.0
    recall, precision = a_matched / n_a, b_matched / n_b
    return 0.0 if recall + precision == 0 else 2 * recall * precision / (recall + precision)


def _plain(values) -> list:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


def manhattan_curves(context: EvaluationContext, real: GwasResult,
                     synthetic: GwasResult) -> dict:
    """Mirrored Manhattan plot data: every significant SNP, a spread of the others."""
    significant = np.flatnonzero(real.significant() | synthetic.significant())
    others = np.setdiff1d(np.arange(real.p.size), significant)
    index = np.union1d(significant, others[scatter_subsample(others.size, MANHATTAN_POINTS)])
    data = context.real
    return {"position": [int(v) for v in data.positions[index]],
            "chromosome": [str(v) for v in data.chromosomes[index]],
            "real_logp": _plain(real.logp[index]),
            "synthetic_logp": _plain(synthetic.logp[index])}


class _AssociationMetric(Metric):
    """Shared flow: per trait a value and a note; the metric is the mean over traits."""

    def per_trait(self, context, trait: str, covariates: list[str]):
        """(value or None, note, curves or None) for one trait both sets carry."""
        raise NotImplementedError

    def precondition(self, context) -> str | None:
        """A reason the metric does not apply beyond missing phenotypes, or None."""
        return None

    def compute(self, context):
        usable, skipped, reason = usable_traits(context)
        if reason is not None:
            return MetricResult(None, f"not applicable: {reason}")
        reason = self.precondition(context)
        if reason is not None:
            return MetricResult(None, f"not applicable: {reason}")
        values, notes, curves = [], [], {}
        for trait, covariates in usable:
            value, note, trait_curves = self.per_trait(context, trait, covariates)
            if value is not None and np.isfinite(value):
                values.append(float(value))
            notes.append(f"{trait}: {note}")
            curves = curves or trait_curves or {}  # plots show the first trait
        notes += skipped
        note = "; ".join(notes)
        if not values:
            return MetricResult(None, f"undefined: {note}", curves)
        return MetricResult(float(np.mean(values)), note, curves)


class GwasBetaR(_AssociationMetric):
    info = metric_info("gwas_beta_r")

    def per_trait(self, context, trait, covariates):
        real = trait_gwas(context, "real", trait, covariates)
        synthetic = trait_gwas(context, "synthetic", trait, covariates)
        both = np.isfinite(real.beta) & np.isfinite(synthetic.beta)
        r = pearson_r(real.beta[both], synthetic.beta[both]) if both.sum() > 2 else np.nan
        return (r, f"r={r:.4f} over {int(both.sum())} SNPs",
                manhattan_curves(context, real, synthetic))


def _hits(context, which, trait, covariates):
    data = getattr(context, which)
    significant = trait_gwas(context, which, trait, covariates).significant()
    return data.chromosomes[significant], data.positions[significant]


class GwasHitOverlap(_AssociationMetric):
    Options = GwasOptions
    info = metric_info("gwas_hit_overlap")

    def per_trait(self, context, trait, covariates):
        window = float(self.settings(context).gwas_window)
        real_c, real_p = _hits(context, "real", trait, covariates)
        syn_c, syn_p = _hits(context, "synthetic", trait, covariates)
        counts = f"{real_p.size} real and {syn_p.size} synthetic hits"
        if real_p.size == 0 and syn_p.size == 0:
            return None, (f"no Bonferroni-significant SNP in either set "
                          f"(n={context.real.n_samples} real individuals)"), None
        recalled = int(_near(real_c, real_p, syn_c, syn_p, window).sum())
        precise = int(_near(syn_c, syn_p, real_c, real_p, window).sum())
        f1 = _f1(real_p.size, recalled, syn_p.size, precise)
        return f1, f"F1={f1:.3f} ({counts}, window {window / 1e3:g} kb)", None


class CausalRecovery(_AssociationMetric):
    Options = GwasOptions
    info = metric_info("causal_recovery")

    def precondition(self, context):
        if not _truth_traits(context):
            return "the true causal variants are unknown (not a simulated suite with traits)"
        return None

    def per_trait(self, context, trait, covariates):
        window = float(self.settings(context).gwas_window)
        causal = _truth_traits(context)[trait]["causal"]
        true_c = np.asarray(causal["chromosome"], dtype=str)
        true_p = np.asarray(causal["position"], dtype=np.int64)
        scores = {}
        for which in ("synthetic", "real"):
            hit_c, hit_p = _hits(context, which, trait, covariates)
            scores[which] = (_f1(true_p.size, int(_near(true_c, true_p, hit_c, hit_p,
                                                        window).sum()),
                                 hit_p.size, int(_near(hit_c, hit_p, true_c, true_p,
                                                       window).sum())), hit_p.size)
        (f1, hits), (real_f1, real_hits) = scores["synthetic"], scores["real"]
        return f1, (f"F1={f1:.3f} with {hits} hits for {true_p.size} causal variants "
                    f"(real data: F1={real_f1:.3f}, {real_hits} hits)"), None


def _trtr_individuals(context: EvaluationContext, size: int):
    """The training split's individuals for train-on-real, subsampled to ``size`` (seed 0)."""
    train = context.train
    if train is None or train.phenotypes is None:
        return None
    if train.n_samples > size:
        rows = np.sort(np.random.default_rng(0).choice(train.n_samples, size, replace=False))
        train = train.take_samples(rows)
    return train


def prediction_scores(context: EvaluationContext, trait: str, covariates: list[str]) -> dict:
    """r and relative MSE on the real individuals of GBLUP and an MLP trained on synthetic
    (``tstr``) and on as many real training individuals (``trtr``); cached per context.

    Phenotypes are adjusted for the trait's covariates within each set, so the scores measure
    the genotype-phenotype link only. MSE is divided by the real adjusted phenotype's variance
    (1 = no better than predicting the mean).
    """

    def score(prediction, target):
        mse = float(np.mean((prediction - target) ** 2) / np.var(target))
        return dict(r=pearson_r(prediction, target), mse=mse)

    def compute():
        real = context.real
        y_real = _adjusted(real.phenotypes, trait, covariates)
        test = np.isfinite(y_real)
        results = {}
        sources = {"tstr": context.synthetic,
                   "trtr": _trtr_individuals(context, context.synthetic.n_samples)}
        for setting, source in sources.items():
            if source is None:
                continue
            y = _adjusted(source.phenotypes, trait, covariates)
            rows = np.isfinite(y)
            z_train, z_test = standardized(source.dosages[rows], real.dosages[test])
            results[setting] = {
                "ridge": score(gblup_predict(z_train, y[rows], z_test, device=context.device),
                               y_real[test]),
                "mlp": score(mlp_predict(z_train, y[rows], z_test, seed=0,
                                         device=context.device), y_real[test])}
        return results

    def compute_on_one_thread():
        with one_thread():
            return compute()

    return context.cached(f"prediction/{trait}/{','.join(covariates)}", compute_on_one_thread)


class _PredictionMetric(_AssociationMetric):
    key = "r"

    def per_trait(self, context, trait, covariates):
        scores = prediction_scores(context, trait, covariates)
        parts = [f"{setting} {model} {self.key}={scores[setting][model][self.key]:.3f}"
                 for setting in ("tstr", "trtr") if setting in scores
                 for model in ("ridge", "mlp")]
        curves = {setting: _plain([scores[setting][model][self.key]
                                   for model in ("ridge", "mlp")])
                  for setting in ("tstr", "trtr") if setting in scores}
        curves["model"] = ["ridge", "mlp"]
        return scores["tstr"]["ridge"][self.key], ", ".join(parts), curves


class TstrR(_PredictionMetric):
    info = metric_info("tstr_r")
    key = "r"


class TstrMse(_PredictionMetric):
    info = metric_info("tstr_mse")
    key = "mse"


class H2Difference(_AssociationMetric):
    info = metric_info("h2_difference")

    def per_trait(self, context, trait, covariates):
        estimates = {}
        for which in ("real", "synthetic"):
            data = getattr(context, which)
            relationships = context.cached(f"grm/{which}",
                                           lambda d=data: vanraden_grm(d.dosages,
                                                                       device=context.device))
            table = data.phenotypes
            estimates[which] = haseman_elston(relationships, table[trait].to_numpy(),
                                              table[covariates].to_numpy() if covariates
                                              else None)
        real, synthetic = estimates["real"], estimates["synthetic"]
        value = abs(float(np.clip(synthetic, 0, 1)) - float(np.clip(real, 0, 1)))
        note = (f"real {real:.3f}, synthetic {synthetic:.3f} (n={context.real.n_samples} and "
                f"{context.synthetic.n_samples}")
        truth = _truth_traits(context).get(trait)
        if truth and "realized_h2" in truth:
            note += f"; simulated h2 {truth['realized_h2']:.3f} over all causal variants"
        return value, note + ")", None


METRICS = (GwasBetaR(), GwasHitOverlap(), CausalRecovery(), TstrR(), TstrMse(), H2Difference())
