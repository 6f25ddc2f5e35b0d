"""The base class of the deep generators: profiles and options, seeding, validation-driven
training, throughput, conditioning and save / load.

A model subclasses :class:`TorchGenerator` and implements ``_fit_model`` (train),
``_sample`` (one batch of dosages), ``_modules`` and ``_build``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

import genobench
from genobench import FitContext, GeneratorError, GenotypeData
from genobench.metrics.privacy import membership_auc

from .checkpoints import SELECTIONS, checkpoint_scores
from .genotypes import dosages_from_logits
from .local_ld import LocalLD, ld_extent_lags, without_traits
from .phenotypes import PhenotypeScaler
from .runtime import (
    child_seeds,
    cpu_threads,
    flush_denormals,
    resolve_device,
    reuse_large_blocks,
    seeded,
)
from .temperature import TEMPERATURES, choose_temperature
from .throughput import training_throughput
from .training import TrainingLog, train_loop

#: The harness hands a fit the whole job's time limit; training takes at most this share of it,
#: leaving the rest for generation and evaluation.
TIME_LIMIT_SHARE = 0.8

#: What :meth:`TorchGenerator.fit_report` keeps of each validation in the training history.
VALIDATION_KEYS = ("epoch", "seconds", "precision", "recall", "f1", "correlation", "membership",
                   "privacy_loss", "closer", "score")

#: What :meth:`TorchGenerator.fit_report` keeps of each candidate sampling temperature.
TEMPERATURE_KEYS = ("temperature", "precision", "recall", "diversity", "correlation",
                    "membership", "privacy_loss", "closer", "relatives", "score")

#: Share of the wall-clock cap (``max_seconds``) the local-LD layer's fitting may take: on
#: human_chr1 (29,875 SNPs) its 60 steps took most of the standard profile's 100 s, leaving
#: the networks no epoch.
LOCAL_LD_SHARE = 0.2

#: Significance levels tried for the local-LD layer's phenotype terms under ``trait_snps =
#: "auto"`` (:meth:`TorchGenerator._fit_local_ld`): 0 keeps none, 1 every SNP's.
TRAIT_LEVELS = (0.0, 1e-4, 1e-3, 1e-2, 0.05, 1.0)

#: Share of the wall-clock cap (``max_seconds``) choosing the sampling temperature may take
#: after training (:func:`~.temperature.choose_temperature`; the candidates nearest the
#: ``temperature`` option are tried first).
TEMPERATURE_SHARE = 0.1

#: Training precisions (option ``precision``).
PRECISIONS = ("float32", "bfloat16")


class TorchGenerator(genobench.Generator):
    """Base of the deep generators: profiles, options, seeding, validation, save / load.

    Subclasses set :attr:`DEFAULTS` (hyperparameters and their defaults for the ``standard``
    profile) and :attr:`PROFILES` (what ``quick`` and ``paper`` change), and implement
    :meth:`_fit_model`, :meth:`_sample`, :meth:`_modules` and :meth:`_build`.

    Options common to all: ``epochs``, ``batch_size``, ``eval_every`` (epochs between
    validations), ``selection`` (what the kept checkpoint maximises on the validation split:
    "f1+correlation", the quick profile's, the mean of the k-NN F1 and the correlation score;
    "f1+correlation+privacy", the standard profile's, that mean less a penalty when the
    checkpoint's samples leak training individuals on the validation split
    (:func:`~.checkpoints.checkpoint_scores`); or "f1", the k-NN F1 alone as in the paper and
    its profile; measured on quick_human, F1 alone kept
    checkpoints from before the adversarial models had learnt LD: WGAN-GP's validation F1
    peaked at epochs 20-45 of 150 with a correlation score of 0.01-0.14, which reached 0.27 by
    epoch 75), ``patience`` (validations without improvement before stopping; None: never),
    ``max_seconds`` (wall-clock cap of training; the standard
    profile stops on patience 5 and 100 s, :attr:`STANDARD_STOP`), ``precision`` ("float32" or
    "bfloat16" autocast), ``validation_size`` (at most this many validation individuals
    scored), ``knn_k`` (None: the leaderboard's size rule,
    :func:`genobench.metrics.neighbours.default_knn_k`), ``device`` ("auto", "cpu", "cuda"),
    ``generate_batch`` (rows per generation batch, bounds memory), ``threads`` (intra-op CPU
    threads; the quick profile uses 1), ``validate_first`` (also validate after the first
    epoch, so the starting weights compete with the trained ones; the GANs' standard
    profile), ``validate_from`` (the first epoch the ``eval_every`` schedule validates; the
    VAE's standard profile: 2), ``temperatures`` (None, or candidate sampling
    temperatures: after training, the one whose draws score best on the validation split
    replaces ``temperature``, :func:`~.temperature.choose_temperature`; the standard profile
    tries :data:`~.temperature.TEMPERATURES`, training's validations draw at ``temperature``).
    """

    DEFAULTS: dict[str, Any] = {}
    PROFILES: dict[str, dict[str, Any]] = {"quick": {}, "standard": {}, "paper": {}}
    COMMON = dict(selection="f1+correlation", patience=None, max_seconds=None,
                  precision="float32", validation_size=1000, knn_k=None, device="auto",
                  generate_batch=2048, threads=None, temperatures=None, validate_first=False,
                  validate_from=1)
    #: What the standard profile adds for every model: stop when the validation score has not
    #: improved for ``patience`` validations (the paper kept the checkpoint where k-NN F1 stops
    #: improving), and in any case after ``max_seconds`` of wall clock; score checkpoints with
    #: the validation leakage signals too ("f1+correlation+privacy"), so training keeps the
    #: weights from before the samples move closer to the training individuals than to unseen
    #: ones. Measured on human_chr22 (seed 1): the VAE's validation membership AUC rose from
    #: 0.56 at epoch 10 to 0.70 at epoch 24 while its correlation score stayed at 0.15-0.20;
    #: keeping epoch 10 took the leaderboard's privacy loss from 0.30 to 0.02 (gate 0.10) and
    #: its ld family from 0.42 to 0.47.
    #: It also chooses the sampling temperature on the validation split after training
    #: (``temperatures``; :mod:`~.temperature` gives the measurements).
    STANDARD_STOP = dict(patience=5, max_seconds=100.0, selection="f1+correlation+privacy",
                         temperatures=TEMPERATURES)

    def __init__(self, **options):
        known = set(self.DEFAULTS) | set(self.COMMON)
        unknown = sorted(set(options) - known)
        if unknown:
            raise GeneratorError(
                f"{self.name}: unknown option(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}")
        if options.get("precision", "float32") not in PRECISIONS:
            raise GeneratorError(f"{self.name}: precision must be one of "
                                 f"{', '.join(PRECISIONS)}, not {options['precision']!r}")
        lags = options.get("local_ld", 0)
        if lags != "auto" and (isinstance(lags, bool) or not isinstance(lags, int) or lags < 0):
            raise GeneratorError(f"{self.name}: local_ld must be a number of lags (0: none) or "
                                 f"'auto', not {lags!r}")
        level = options.get("trait_snps", "auto")
        if level not in ("all", "auto") and (isinstance(level, bool) or not isinstance(
                level, (int, float)) or not 0 <= level <= 1):
            raise GeneratorError(f"{self.name}: trait_snps must be 'all', 'auto' or a "
                                 f"significance level in [0, 1], not {level!r}")
        if options.get("selection", "f1+correlation") not in SELECTIONS:
            raise GeneratorError(f"{self.name}: selection must be one of "
                                 f"{', '.join(SELECTIONS)}, not {options['selection']!r}")
        super().__init__(**options)

    # -- configuration ---------------------------------------------------------------------
    @classmethod
    def hyperparameters(cls, profile: str = "standard") -> dict:
        """Default hyperparameters of ``profile`` (before the user's options)."""
        if profile not in cls.PROFILES:
            raise GeneratorError(f"{cls.name}: unknown profile {profile!r}")
        # Quick-profile nets are small: one thread loses little on an idle machine and avoids
        # the collapse of torch's spinning threads on a busy one (CI runners, parallel jobs),
        # measured at 5-40x on a loaded 2-core machine.
        threads = {"threads": 1} if profile == "quick" else {}
        stop = cls.STANDARD_STOP if profile == "standard" else {}
        return {**cls.COMMON, **threads, **stop, **cls.DEFAULTS, **cls.PROFILES[profile]}

    def _configure(self, context: FitContext | None) -> dict:
        profile = context.profile if context is not None else "standard"
        config = self.hyperparameters(profile)
        config.update(self.options)
        config["profile"] = profile
        return config

    # -- the harness interface -------------------------------------------------------------
    def fit(self, train: GenotypeData, *, seed: int, context: FitContext | None = None) -> None:
        started = time.monotonic()
        self.config_ = self._configure(context)
        self.device_ = resolve_device(self.config_["device"], context)
        self.n_snps_ = train.n_snps
        self.snp_ids_ = train.snp_ids.tolist()
        self.scaler_ = None
        if self.supports_phenotypes and train.phenotypes is not None \
                and train.phenotypes.shape[1] > 0 and self.config_.get("conditional", True):
            self.scaler_ = PhenotypeScaler.fit(train.phenotypes)
            self.train_phenotypes_ = self.scaler_.transform(train.phenotypes.to_numpy())
        fit_seed, validation_seed = child_seeds(seed, 2)
        validation = context.validation if context is not None else None
        if validation is not None and validation.n_snps != train.n_snps:
            raise GeneratorError(f"{self.name}: validation and training SNPs differ")
        time_limit = None
        if context is not None and context.time_limit:
            time_limit = context.time_limit * TIME_LIMIT_SHARE
        self._validation = self._validation_set(validation, validation_seed, train)
        if self.config_.get("local_ld") == "auto":
            self.config_["local_ld"] = ld_extent_lags(train.dosages, train.chromosomes)
        if self.device_.type == "cpu":
            reuse_large_blocks()
        with seeded(fit_seed, self.device_), cpu_threads(self.config_["threads"]), \
                flush_denormals():
            log = self._fit_model(train, started=started, time_limit=time_limit,
                                  progress=context.progress if context is not None else None)
            throughput = self._throughput(log)
            leak_sources = self._leak_sources(train)
            temperature = self._choose_temperature()
        self.training_ = {**log.as_dict(), "throughput": throughput,
                          "leak_sources": leak_sources, "temperature": temperature,
                          "trait_terms": getattr(self, "trait_terms_", None)}
        self._validation = None

    def fit_report(self) -> dict | None:
        """The fit's record for the leaderboard (:meth:`genobench.Generator.fit_report`):
        epochs, stop reason, kept epoch, seconds, the profile's cap and selection, the dense
        layers' FLOP/s against the calibration product, and every validation's signals
        (k-NN precision / recall / F1, correlation score, membership AUC, privacy loss, the
        selection score) and the membership AUC of the kept model's own parts
        (:meth:`_leak_sources`), the sampling temperature and the validation scores of the
        candidates it was chosen from (:meth:`_choose_temperature`), from ``training_`` (also
        after loading a saved model)."""
        training = getattr(self, "training_", None)
        if not training:
            return None
        throughput = training.get("throughput") or {}
        validations = [{key: entry[key] for key in VALIDATION_KEYS if key in entry}
                       for entry in training["history"] if "score" in entry]
        config = getattr(self, "config_", {})
        return dict(
            epochs=len(training["history"]), stopped=training["stopped"],
            best_epoch=training["best_epoch"], best_score=training["best_score"],
            seconds=training["seconds"], train_seconds=training["train_seconds"],
            max_seconds=config.get("max_seconds"), selection=config.get("selection"),
            profile=config.get("profile"), flops_per_epoch=throughput.get("flops_per_epoch"),
            achieved_flop_s=throughput.get("achieved_flop_s"),
            calibration_flop_s=throughput.get("calibration_flop_s"),
            flops_fraction=throughput.get("fraction"), validations=validations,
            leak_sources=training.get("leak_sources") or {},
            trait_terms=training.get("trait_terms"),
            temperature=config.get("temperature"),
            temperatures=[{key: entry[key] for key in TEMPERATURE_KEYS}
                          for entry in (training.get("temperature") or {}).get("candidates",
                                                                                 [])])

    def _rows_per_step(self) -> int:
        """Rows of one training step's products: the batch size (a model that feeds each
        individual several times per step says so)."""
        return int(self.config_.get("batch_size") or 64)

    def _throughput(self, log: TrainingLog) -> dict:
        """:func:`~.throughput.training_throughput` of this fit (rows of one step)."""
        return training_throughput(
            self._modules(), flops_per_epoch=log.flops_per_epoch, epochs=len(log.history),
            train_seconds=log.train_seconds, rows=self._rows_per_step(), device=self.device_)

    def _autocast(self):
        """The training precision: float32, or bfloat16 autocast of the products ("bfloat16",
        about 2x this CPU's float32 rate and more on GPUs; weights stay float32)."""
        if self.config_.get("precision", "float32") == "bfloat16":
            return torch.autocast(self.device_.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _train(self, run_epoch: Callable[[int], dict], *, started: float,
               time_limit: float | None, progress) -> TrainingLog:
        """:func:`train_loop` with this model's epochs, validation, patience and caps."""
        config = self.config_
        autocast = self._autocast()

        def epoch_in_precision(epoch: int) -> dict:
            with autocast:
                return run_epoch(epoch)

        return train_loop(epochs=int(config["epochs"]), run_epoch=epoch_in_precision,
                          modules=self._modules(), validate=self._validator(),
                          eval_every=int(config["eval_every"]), time_limit=time_limit,
                          started=started, progress=progress, patience=config["patience"],
                          max_seconds=config["max_seconds"],
                          validate_first=bool(config.get("validate_first")),
                          validate_from=int(config.get("validate_from") or 1))

    def generate(self, n: int, *, seed: int, phenotypes: np.ndarray | None = None) -> np.ndarray:
        if not hasattr(self, "config_"):
            raise GeneratorError(f"{self.name}: generate called before fit (or load)")
        cond = self._conditions(n, phenotypes, seed)
        out = np.empty((n, self.n_snps_), dtype=np.int8)
        step = int(self.config_["generate_batch"])
        with seeded(child_seeds(seed, 1)[0], self.device_), \
                cpu_threads(self.config_.get("threads")), flush_denormals():
            for start in range(0, n, step):
                part = None if cond is None else cond[start:start + step].to(self.device_)
                out[start:start + step] = self._sample(min(step, n - start), part).cpu().numpy()
        return out

    def _conditions(self, n: int, phenotypes, seed: int) -> torch.Tensor | None:
        """Standardised phenotypes to condition on, (n, traits) float32, or None."""
        if self.scaler_ is None:
            if phenotypes is not None and self.supports_phenotypes and \
                    self.config_.get("conditional", True):
                raise GeneratorError(
                    f"{self.name}: phenotypes given to generate, but the model was trained "
                    "without phenotypes (the training split has none); pass phenotypes=None")
            return None
        if phenotypes is None:  # draw phenotype vectors of training individuals
            rows = np.random.default_rng(seed).integers(0, self.train_phenotypes_.shape[0], n)
            return torch.as_tensor(self.train_phenotypes_[rows])
        values = self.scaler_.transform(phenotypes)
        if values.shape[0] != n:
            raise GeneratorError(f"{self.name}: {values.shape[0]} phenotype rows for n={n}")
        return torch.as_tensor(values)

    # -- the local-LD output layer ---------------------------------------------------------
    def _build_local_ld(self, n_snps: int, cond_dim: int = 0) -> None:
        """``local_ld_``: the :class:`~.local_ld.LocalLD` layer of ``local_ld`` lags (with
        ``cond_dim`` phenotype terms), or None where the option is 0 or absent. Chromosomes
        come from the training split (``chromosomes_``); a loaded model's from its mask."""
        order = int(self.config_.get("local_ld") or 0)
        self.local_ld_ = LocalLD(n_snps, order, getattr(self, "chromosomes_", None),
                                 cond_dim).to(self.device_) if order else None

    def _fit_local_ld(self, dosages: torch.Tensor, base_logits: torch.Tensor,
                      conds: torch.Tensor | None = None) -> None:
        """Fit the layer to the training ``dosages`` on top of ``base_logits`` (m, 3) or
        (n, m, 3) (:meth:`LocalLD.pretrain`, prior ``ld_penalty``; at most about
        :data:`LOCAL_LD_SHARE` of ``max_seconds``), then keep it fixed.

        ``conds`` (n, c) are the condition rows, phenotypes first (the models' layout). The
        option ``trait_snps`` says at which SNPs the layer keeps phenotype terms: "all"
        (fitted with the other terms), those passing a significance level, or "auto", the
        level of :data:`TRAIT_LEVELS` whose terms best predict held-out training individuals'
        phenotypes (:meth:`LocalLD.select_trait_terms`, recorded in ``trait_terms_``).
        """
        self.trait_terms_ = None
        if self.local_ld_ is None:
            return
        cap = self.config_.get("max_seconds")
        penalty = float(self.config_.get("ld_penalty", 1.0))
        traits = 0 if conds is None or self.scaler_ is None else len(self.scaler_.names)
        option = self.config_.get("trait_snps") or "all"
        tested = traits > 0 and option != "all"
        # the other terms first, without the phenotypes
        others = without_traits(conds, traits) if tested else conds
        self.local_ld_.pretrain(dosages, base_logits, others, penalty=penalty,
                                seconds=LOCAL_LD_SHARE * float(cap) if cap else None)
        if tested:
            levels = TRAIT_LEVELS if option == "auto" else (float(option),)
            self.trait_terms_ = self.local_ld_.select_trait_terms(
                dosages, base_logits, conds, traits, levels, penalty=penalty)
        self.local_ld_.requires_grad_(False)

    def _with_local_ld(self, modules: dict[str, nn.Module]) -> dict[str, nn.Module]:
        return modules if self.local_ld_ is None else {**modules, "local_ld": self.local_ld_}

    def _draw(self, logits: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Genotypes int8 (n, m) from per-SNP logits (n, m, 3): through the local-LD layer
        when the model has one, else independently per SNP; at ``temperature``, or the
        likeliest genotype with ``decode = "argmax"``."""
        temperature = float(self.config_.get("temperature", 1.0))
        argmax = self.config_.get("decode", "sample") == "argmax"
        if self.local_ld_ is not None:
            return self.local_ld_.sample(logits, cond, temperature=temperature, greedy=argmax)
        return dosages_from_logits(logits, sample=not argmax, temperature=temperature)

    # -- validation ------------------------------------------------------------------------
    def _validation_set(self, validation: GenotypeData | None, seed: int,
                        train: GenotypeData | None = None):
        if validation is None or validation.n_samples < 4:
            return None
        rng = np.random.default_rng(seed)
        size = min(validation.n_samples, int(self.config_["validation_size"]))
        rows = np.sort(rng.choice(validation.n_samples, size, replace=False))
        cond = None
        if self.scaler_ is not None and validation.phenotypes is not None:
            cond = torch.as_tensor(
                self.scaler_.transform(validation.phenotypes.to_numpy()[rows]))
        train_rows = None if train is None else \
            torch.as_tensor(train.dosages, device=self.device_)
        return dict(dosages=torch.as_tensor(validation.dosages[rows], device=self.device_),
                    cond=cond, seed=int(rng.integers(0, 2**62)), train=train_rows)

    def _validator(self) -> Callable[[], dict] | None:
        """A function scoring the current weights on the validation split, or None without one.

        Scores with ``selection``; generates as many individuals as are scored, conditioned on
        their phenotypes for conditional models, with a fixed seed (so scores differ only by
        the weights).
        """
        if self._validation is None:
            return None
        validation = self._validation

        def validate() -> dict:
            return checkpoint_scores(validation["dosages"], self._validation_draw(),
                                     selection=self.config_["selection"],
                                     k=self.config_["knn_k"], device=self.device_,
                                     train=validation["train"])

        return validate

    def _validation_draw(self) -> torch.Tensor:
        """As many individuals as the validation split scores, int8 (n, m), with its fixed
        seed, conditioned on its phenotypes (training ones drawn where it has none) for
        conditional models."""
        validation = self._validation
        n = validation["dosages"].shape[0]
        cond = None
        if self.scaler_ is not None:
            cond = validation["cond"]
            if cond is None:
                rows = torch.randint(0, self.train_phenotypes_.shape[0], (n,))
                cond = torch.as_tensor(self.train_phenotypes_)[rows]
            cond = cond.to(self.device_)
        with seeded(validation["seed"], self.device_), torch.no_grad():
            return self._sample(n, cond)

    def _choose_temperature(self) -> dict | None:
        """With ``temperatures`` and a validation split: set ``temperature`` to the candidate
        whose draws score best there (:func:`~.temperature.choose_temperature`, within
        :data:`TEMPERATURE_SHARE` of ``max_seconds``); returns its record, else None."""
        candidates = self.config_.get("temperatures")
        if not candidates or self._validation is None or \
                self.config_.get("decode", "sample") == "argmax":
            return None
        start = float(self.config_.get("temperature", 1.0))
        cap = self.config_.get("max_seconds")

        def draw(temperature: float) -> torch.Tensor:
            self.config_["temperature"] = temperature
            return self._validation_draw()

        chosen = choose_temperature(
            draw, validation=self._validation["dosages"], train=self._validation["train"],
            candidates=[float(t) for t in candidates], seed=self._validation["seed"],
            k=self.config_["knn_k"], device=self.device_, start=start,
            seconds=None if cap is None else TEMPERATURE_SHARE * float(cap))
        self.config_["temperature"] = chosen["temperature"]
        return chosen

    @torch.no_grad()
    def _leak_sources(self, train: GenotypeData) -> dict[str, float]:
        """{what: membership AUC}: how well each of the kept model's own parts tells training
        individuals from validation ones (:meth:`_membership_signals`, a white-box attack on
        the model rather than on its samples; 0.5: not at all). Empty without a validation
        split or signals. Training individuals are capped at ``validation_size`` (a fixed
        random subset), like the validation ones."""
        if self._validation is None:
            return {}
        validation = self._validation["dosages"]
        rng = np.random.default_rng(self._validation["seed"])
        size = min(train.n_samples, int(self.config_["validation_size"]))
        rows = np.sort(rng.choice(train.n_samples, size, replace=False))
        members = torch.as_tensor(train.dosages[rows], device=self.device_)
        member_cond = others_cond = None
        if self.scaler_ is not None:
            member_cond = torch.as_tensor(self.train_phenotypes_[rows], device=self.device_)
            others_cond = self._validation["cond"]
            if others_cond is None:  # validation phenotypes missing: training ones, drawn
                picks = rng.integers(0, self.train_phenotypes_.shape[0], validation.shape[0])
                others_cond = torch.as_tensor(self.train_phenotypes_[picks])
            others_cond = others_cond.to(self.device_)
        step = int(self.config_["generate_batch"])

        def signal(function, x, cond):
            parts = [function(x[i:i + step], None if cond is None else cond[i:i + step])
                     for i in range(0, x.shape[0], step)]
            return torch.cat(parts).double().cpu().numpy()

        out = {}
        for what, function in self._membership_signals().items():
            member_values = signal(function, members, member_cond)
            other_values = signal(function, validation, others_cond)
            if np.all(np.isfinite(member_values)) and np.all(np.isfinite(other_values)):
                out[what] = round(membership_auc(member_values, other_values), 4)
        return out

    def _membership_signals(self) -> dict[str, Callable]:
        """{what: function(dosages (n, m) int8 tensor, condition rows or None) -> (n,)}: a
        per-individual value of the kept model's own parts, smaller for individuals the
        model fits more closely (its training individuals, if it memorised them). Used by
        :meth:`_leak_sources`; none by default."""
        return {}

    # -- to implement ----------------------------------------------------------------------
    def _fit_model(self, train: GenotypeData, *, started: float, time_limit: float | None,
                   progress) -> TrainingLog:
        """Build the networks from ``self.config_`` and train them; return the log."""
        raise NotImplementedError

    def _sample(self, n: int, cond: torch.Tensor | None) -> torch.Tensor:
        """``n`` individuals as an int8 tensor (n, SNPs), drawing from the global generators."""
        raise NotImplementedError

    def _modules(self) -> dict[str, nn.Module]:
        """The trained modules by name (what a checkpoint holds)."""
        raise NotImplementedError

    def _extra_state(self) -> dict[str, torch.Tensor]:
        """Tensors besides module weights that a saved model needs (PCA loadings...)."""
        return {}

    def _build(self, extra: dict[str, torch.Tensor]) -> None:
        """Recreate the untrained modules from ``self.config_`` and the extra tensors."""
        raise NotImplementedError

    # -- storage ---------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """The trained model as arrays and plain values (genobench's model-file state).

        Plain: ``config`` (resolved hyperparameters), ``n_snps``, ``training`` (the log).
        Arrays: ``module.<name>.<key>`` for every module's state dict, ``extra.<key>`` for
        :meth:`_extra_state`, ``scaler.mean`` / ``scaler.scale`` / ``scaler.train`` with
        ``scaler.names`` when the model is conditional.
        """
        if not hasattr(self, "config_"):
            raise GeneratorError(f"{self.name}: nothing to save before fit")
        state: dict[str, Any] = dict(config=dict(self.config_), n_snps=int(self.n_snps_),
                                     training=self.training_, snp_ids_=list(self.snp_ids_))
        for name, module in self._modules().items():
            for key, value in module.state_dict().items():
                state[f"module.{name}.{key}"] = value.detach().cpu().numpy()
        for key, value in self._extra_state().items():
            state[f"extra.{key}"] = value.detach().cpu().numpy()
        if self.scaler_ is not None:
            state.update({"scaler.names": list(self.scaler_.names),
                          "scaler.mean": np.asarray(self.scaler_.mean),
                          "scaler.scale": np.asarray(self.scaler_.scale),
                          "scaler.train": np.asarray(self.train_phenotypes_)})
        return state

    def set_state(self, state: dict[str, Any], *, device: str | None = None) -> None:
        """Rebuild the modules from ``state`` (see :meth:`get_state`) on ``device`` (default:
        the model's ``device`` option; "auto" is a GPU when torch finds one, else the CPU)."""
        self.config_ = dict(state["config"])
        here = FitContext(device="cuda" if torch.cuda.is_available() else "cpu")
        self.device_ = resolve_device(device or self.config_.get("device"), here)
        self.n_snps_ = int(state["n_snps"])
        self.snp_ids_ = list(state["snp_ids_"])
        self.training_ = state["training"]
        self.scaler_ = None
        if "scaler.names" in state:
            self.scaler_ = PhenotypeScaler(list(state["scaler.names"]), state["scaler.mean"],
                                           state["scaler.scale"])
            self.train_phenotypes_ = state["scaler.train"]
        extra = {key[len("extra."):]: torch.from_numpy(np.array(value)).to(self.device_)
                 for key, value in state.items() if key.startswith("extra.")}
        self._build(extra)
        for name, module in self._modules().items():
            prefix = f"module.{name}."
            weights = {key[len(prefix):]: torch.from_numpy(np.array(value))
                       for key, value in state.items() if key.startswith(prefix)}
            module.load_state_dict(weights)
            module.to(self.device_).eval()
