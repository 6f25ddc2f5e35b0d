"""Shared torch pieces of genobench's deep generators (VAE, GAN, WGAN-GP, PCA diffusion).

What every deep plugin needs once: picking the device, seeding without touching global state,
residual MLP blocks, one-hot genotype encoding, an exact k-NN precision / recall for checkpoint
selection, a training loop with a wall-clock limit and best-checkpoint selection, phenotype
standardisation, and saving / loading of trained models as plain state dicts.

:class:`TorchGenerator` ties these together; a model subclasses it and implements
``_fit_model`` (train), ``_sample`` (one batch of dosages), ``_modules`` and ``_build``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import genobench
from genobench import FitContext, GeneratorError, GenotypeData

#: The harness hands a fit the whole job's time limit; training takes at most this share of it,
#: leaving the rest for generation and evaluation.
TIME_LIMIT_SHARE = 0.8

#: Leaky ReLU slope of the seed paper's MLPs (Xie et al. 2026, GigaScience).
LEAKY_SLOPE = 0.05


# -- devices and seeds --------------------------------------------------------------------------
def resolve_device(requested: str | None, context: FitContext | None = None) -> torch.device:
    """The torch device to train on.

    :param requested: a device name from the options ("cpu", "cuda", "cuda:1"), or None / "auto"
        for the harness's choice (``context.device``); "cuda" without a GPU falls back to CPU.
    """
    name = requested if requested not in (None, "auto") else (
        context.device if context is not None else "cpu")
    if str(name).startswith("cuda") and not torch.cuda.is_available():
        name = "cpu"
    return torch.device(name)


def child_seeds(seed: int, count: int) -> list[int]:
    """``count`` independent integer seeds derived from ``seed`` (numpy's SeedSequence)."""
    return [int(s) for s in np.random.default_rng(seed).integers(0, 2**62, size=count)]


@contextlib.contextmanager
def seeded(seed: int, device: torch.device):
    """Run a block with torch's global generators seeded from ``seed``, restored afterwards.

    Module initialisation, dropout, ``torch.randn`` and friends draw from the global generators;
    forking them keeps a fit or a generate call deterministic for its seed without leaking state
    to the caller (``torch.random.fork_rng``).
    """
    devices = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices, device_type="cuda"):
        torch.random.default_generator.manual_seed(seed)
        if devices:
            with torch.cuda.device(devices[0]):
                torch.cuda.manual_seed(seed)
        yield


@contextlib.contextmanager
def cpu_threads(count: int | None):
    """Use ``count`` intra-op CPU threads inside the block (None: leave torch's setting).

    On a machine shared with other jobs fewer threads than cores can be much faster, since
    torch's threads spin while they wait for each other.
    """
    if not count:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(count))
    try:
        yield
    finally:
        torch.set_num_threads(before)


# -- building blocks ----------------------------------------------------------------------------
def scaled_width(n_features: int, divisor: float, *, minimum: int = 32,
                 maximum: int | None = None) -> int:
    """A layer width proportional to the input size, ``n_features / divisor``, rounded to 8.

    The seed paper sizes its GAN layers in proportion to 3 x SNPs (``proportional_neuron``);
    ``maximum`` caps them so the CPU profiles stay fast.
    """
    width = max(minimum, int(round(n_features / divisor / 8)) * 8)
    return min(width, maximum) if maximum else width


def power_of_two_width(value: float, minimum: int, maximum: int) -> int:
    """The power of two nearest ``value`` (log scale), clipped to [minimum, maximum]."""
    width = 2 ** int(round(math.log2(max(value, 1.0))))
    return int(min(max(width, minimum), maximum))


def _norm(kind: str, width: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm1d(width)
    if kind == "layer":
        return nn.LayerNorm(width)
    if kind == "none":
        return nn.Identity()
    raise GeneratorError(f"unknown normalisation {kind!r} (expected batch, layer or none)")


class ResidualBlock(nn.Module):
    """``skip(x) + LeakyReLU(Norm(Linear([x, c])))``: the residual MLP block of the paper.

    A condition ``c`` (standardised phenotypes), when the block has ``cond_dim > 0``, is
    concatenated to the block's input, so every block sees it (the paper's WGAN-GP). The skip is
    the identity when the width is kept and a bias-free linear map when it changes.
    """

    def __init__(self, in_dim: int, out_dim: int, *, cond_dim: int = 0, norm: str = "batch",
                 slope: float = LEAKY_SLOPE, dropout: float = 0.0):
        super().__init__()
        self.cond_dim = cond_dim
        self.linear = nn.Linear(in_dim + cond_dim, out_dim)
        self.norm = _norm(norm, out_dim)
        self.activation = nn.LeakyReLU(slope)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.skip = nn.Identity() if in_dim == out_dim else nn.Linear(in_dim, out_dim, bias=False)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        inputs = torch.cat([x, cond], dim=1) if self.cond_dim else x
        return self.skip(x) + self.dropout(self.activation(self.norm(self.linear(inputs))))


class ResidualMLP(nn.Module):
    """A stack of :class:`ResidualBlock` with the given widths; the condition enters each block."""

    def __init__(self, in_dim: int, widths: list[int], *, cond_dim: int = 0, norm: str = "batch",
                 slope: float = LEAKY_SLOPE, dropout: float = 0.0):
        super().__init__()
        dims = [in_dim, *widths]
        self.blocks = nn.ModuleList(
            ResidualBlock(a, b, cond_dim=cond_dim, norm=norm, slope=slope, dropout=dropout)
            for a, b in zip(dims[:-1], dims[1:], strict=True))
        self.out_dim = dims[-1]

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, cond)
        return x


# -- genotype encodings -------------------------------------------------------------------------
def one_hot(dosages: torch.Tensor) -> torch.Tensor:
    """Dosages (n, m) in {0, 1, 2} as flattened one-hot float32 (n, 3 m), SNP-major."""
    return F.one_hot(dosages.long(), 3).to(torch.float32).flatten(1)


def dosages_from_logits(logits: torch.Tensor, *, sample: bool = False) -> torch.Tensor:
    """Genotypes from per-SNP logits (n, 3 m) or (n, m, 3): argmax, or a categorical draw.

    A categorical draw is the argmax of logits plus Gumbel noise (the hard Gumbel-Softmax at any
    temperature); it uses torch's global generator, so call it inside :func:`seeded`.
    """
    logits = logits.reshape(logits.shape[0], -1, 3)
    if sample:
        gumbel = -torch.empty_like(logits).exponential_().log()
        logits = logits + gumbel
    return logits.argmax(dim=-1).to(torch.int8)


def genotype_log_frequencies(dosages: torch.Tensor, pseudocount: float = 0.5) -> torch.Tensor:
    """Log genotype frequencies per SNP, flattened (3 m,), with a pseudocount per genotype.

    Used as the initial bias of a layer emitting 3 logits per SNP: an untrained network then
    already draws every SNP from its training genotype frequencies (the independent-sites
    model), and training only has to add the dependence between SNPs.
    """
    counts = F.one_hot(dosages.long(), 3).sum(0).double() + pseudocount
    return (counts / counts.sum(1, keepdim=True)).log().flatten().float()


# -- k-NN precision / recall --------------------------------------------------------------------
def _squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Exact squared Euclidean distances between dosage rows, int64 (p, q).

    Cross-products of 0/1/2 vectors are integers no larger than 4 m, exact in float32 for
    m < 2**22 whatever the summation order; the rest is integer arithmetic.
    """
    gram = torch.round(a.float() @ b.float().T).to(torch.int64)
    na = (a.long() ** 2).sum(1)
    nb = (b.long() ** 2).sum(1)
    return na[:, None] + nb[None, :] - 2 * gram


def _kth_radius(x: torch.Tensor, k: int, block: int) -> torch.Tensor:
    """Distance (squared) of each row to its k-th nearest other row of the same set."""
    k = min(k, x.shape[0] - 1)
    radii = []
    for start in range(0, x.shape[0], block):
        d = _squared_distances(x[start:start + block], x)
        radii.append(d.kthvalue(k + 1, dim=1).values)  # +1: the row itself is at distance 0
    return torch.cat(radii)


def _coverage(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor,
              block: int) -> float:
    """Share of ``points`` inside at least one ball (centre, radius) of the other set."""
    inside = 0
    for start in range(0, points.shape[0], block):
        d = _squared_distances(points[start:start + block], centres)
        inside += int((d <= radii[None, :]).any(dim=1).sum())
    return inside / points.shape[0]


def default_knn_k(n: int) -> int:
    """k of the manifold estimate: about n / 20, from 3 to 60 (the paper's k on a chromosome)."""
    return int(min(60, max(3, n // 20)))


def knn_precision_recall(real, synthetic, *, k: int | None = None, device="cpu",
                         block: int = 1024) -> dict[str, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019, NeurIPS) and their F1.

    Each real individual gets a ball reaching its k-th nearest real neighbour; precision is the
    share of synthetic individuals inside some real ball, recall the share of real individuals
    inside some synthetic ball (balls from synthetic neighbours). Euclidean distance on dosages,
    computed exactly.

    :param real: int8 (n, m) dosages (numpy or torch). :param synthetic: int8 (p, m).
    :returns: {"precision", "recall", "f1"}, each in [0, 1].
    """
    real = torch.as_tensor(np.asarray(real) if not isinstance(real, torch.Tensor) else real,
                           device=device)
    synthetic = torch.as_tensor(synthetic, device=device)
    k = k or default_knn_k(min(real.shape[0], synthetic.shape[0]))
    precision = _coverage(synthetic, real, _kth_radius(real, k, block), block)
    recall = _coverage(real, synthetic, _kth_radius(synthetic, k, block), block)
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return dict(precision=precision, recall=recall, f1=f1)


def correlation_score(real, synthetic, *, max_snps: int = 2000) -> float:
    """Correlation score (Vinas et al. 2022, Bioinformatics): Pearson r between the SNP-SNP
    correlation distances 1 - r of the real and of the synthetic individuals.

    Over SNPs polymorphic in both sets, at most ``max_snps`` of them (evenly spread), so it is
    cheap enough to run at every validation. 0 for independent SNPs, 1 for identical LD.
    """
    real, synthetic = torch.as_tensor(real).double(), torch.as_tensor(synthetic).double()
    keep = (real.std(0) > 0) & (synthetic.std(0) > 0)
    index = torch.nonzero(keep).squeeze(1)
    if index.numel() < 3:
        return 0.0
    index = index[torch.linspace(0, index.numel() - 1, min(index.numel(), max_snps)).long()]
    upper = torch.triu_indices(index.numel(), index.numel(), 1, device=index.device)
    vectors = []
    for x in (real[:, index], synthetic[:, index]):
        r = torch.corrcoef(x.T)
        vectors.append(1 - r[upper[0], upper[1]])
    value = torch.corrcoef(torch.stack(vectors))[0, 1]
    return float(value) if torch.isfinite(value) else 0.0


#: Checkpoint-selection criteria: what :func:`train_loop` maximises on the validation split.
SELECTIONS = ("f1", "f1+correlation")

#: Training precisions (option ``precision``).
PRECISIONS = ("float32", "bfloat16")


# -- training loop ------------------------------------------------------------------------------
@dataclasses.dataclass
class TrainingLog:
    """What a training run did.

    :ivar history: one dict per epoch: ``epoch`` (1-based), ``seconds`` since the fit began,
        the losses ``run_epoch`` returned and, where validated, ``precision``, ``recall``,
        ``f1`` (and ``correlation``) and the selection ``score``.
    :ivar best_epoch: epoch of the kept weights (the best validation score, else the last).
    :ivar best_score: that score (k-NN F1, or its mean with the correlation score).
    :ivar stopped: why training ended: "epochs" (all ran), "patience" (the validation score
        stopped improving), "max_seconds" (the profile's wall-clock cap) or "time_limit" (the
        job's time limit).
    :ivar seconds: wall-clock seconds of the whole fit so far.
    :ivar train_seconds: seconds spent in training epochs (validations excluded).
    :ivar flops_per_epoch: floating-point operations of the dense layers in one training epoch,
        forward and backward (:func:`count_flops` on the first epoch).
    """

    history: list = dataclasses.field(default_factory=list)
    best_epoch: int = 0
    best_score: float | None = None
    stopped: str = "epochs"
    seconds: float = 0.0
    train_seconds: float = 0.0
    flops_per_epoch: float | None = None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _snapshot(modules: dict[str, nn.Module]) -> dict:
    return {name: copy.deepcopy({k: v.detach().clone() for k, v in m.state_dict().items()})
            for name, m in modules.items()}


def train_loop(*, epochs: int, run_epoch: Callable[[int], dict], modules: dict[str, nn.Module],
               validate: Callable[[], dict] | None = None, eval_every: int = 1,
               time_limit: float | None = None, started: float | None = None,
               progress: Callable[..., None] | None = None, patience: int | None = None,
               max_seconds: float | None = None) -> TrainingLog:
    """Train for ``epochs``, keep the weights with the best validation score, stop on time.

    :param run_epoch: ``run_epoch(epoch)`` (0-based) trains one epoch, returns {loss: float}.
    :param modules: the modules whose weights make a checkpoint (restored at the end).
    :param validate: returns {"score": float to maximise, ...} for the current weights (k-NN
        precision, recall, F1...), or None to keep the last weights. Called every
        ``eval_every`` epochs and after the last one.
    :param time_limit: wall-clock seconds from ``started`` (``time.monotonic()``) that training
        may use. An epoch does not start when the mean epoch time (plus a validation, when one
        is due) would cross it; at least one epoch always runs.
    :param progress: ``progress(step=, total=, **values)`` after every epoch.
    :param patience: stop after this many validations without a better score (None: never).
    :param max_seconds: the profile's wall-clock cap, applied like ``time_limit``; the stop
        reason says which of the two ended training.
    """
    started = time.monotonic() if started is None else started
    reason = "time_limit"
    if max_seconds is not None and (time_limit is None or max_seconds < time_limit):
        time_limit, reason = float(max_seconds), "max_seconds"
    log = TrainingLog()
    best_state, best_score, stale = None, -math.inf, 0
    epoch_seconds: list[float] = []
    eval_seconds = 0.0
    last_validated = -1

    def evaluate(epoch: int, record: dict) -> None:
        nonlocal best_state, best_score, stale, eval_seconds, last_validated
        t0 = time.monotonic()
        scores = validate()
        eval_seconds = time.monotonic() - t0
        last_validated = epoch
        record.update({k: round(float(v), 4) for k, v in scores.items()})
        # Ties go to the later weights (an F1 of 0 early on must not pin the first epoch).
        score = scores["score"]
        if score >= best_score:
            stale = 0 if score > best_score else stale + 1
            best_score, best_state = score, _snapshot(modules)
            log.best_epoch, log.best_score = epoch + 1, float(score)
        else:
            stale += 1

    for epoch in range(epochs):
        t0 = time.monotonic()
        if epoch == 0:  # count the products once; every epoch does the same work
            losses, log.flops_per_epoch = count_flops(lambda: run_epoch(0), modules)
        else:
            losses = run_epoch(epoch)
        epoch_seconds.append(time.monotonic() - t0)
        record = {"epoch": epoch + 1, **{k: float(v) for k, v in losses.items()}}
        due = validate is not None and ((epoch + 1) % eval_every == 0 or epoch + 1 == epochs)
        if due:
            evaluate(epoch, record)
        record["seconds"] = round(time.monotonic() - started, 3)
        log.history.append(record)
        if progress is not None:
            progress(step=epoch + 1, total=epochs,
                     **{k: v for k, v in record.items() if k not in ("epoch", "seconds")})
        if patience is not None and validate is not None and stale >= patience:
            log.stopped = "patience"
            break
        if time_limit is not None and epoch + 1 < epochs:
            elapsed = time.monotonic() - started
            next_due = validate is not None and (epoch + 2) % eval_every == 0
            needed = float(np.mean(epoch_seconds[-5:])) + (eval_seconds if next_due else 0.0)
            if elapsed + needed > time_limit:
                log.stopped = reason
                if validate is not None and last_validated != epoch and \
                        elapsed + eval_seconds <= time_limit:
                    evaluate(epoch, record)
                break
    if best_state is not None:
        for name, module in modules.items():
            module.load_state_dict(best_state[name])
    else:
        log.best_epoch = len(log.history)
    log.seconds = round(time.monotonic() - started, 3)
    # The first epoch ran under the FLOP counter (slower): time the others when there are any.
    timed = epoch_seconds[1:] or epoch_seconds
    log.train_seconds = round(float(np.mean(timed)) * len(epoch_seconds), 3)
    return log


def count_flops(function: Callable[[], Any], modules: dict[str, nn.Module]) -> tuple[Any, float]:
    """Run ``function()`` and count the floating-point operations of the dense layers of
    ``modules``: 2 x rows x inputs x outputs per linear-layer call, three times that when
    gradients flow (forward, gradient of the input, gradient of the weights: the usual
    6 N per sample). Returns (result, FLOPs).

    Forward hooks, not torch's FlopCounterMode, which cannot follow the gradient penalty's
    ``autograd.grad``; element-wise work, the optimizer and double backward are left out.
    """
    total = [0.0]

    def hook(layer, inputs, output):
        rows = inputs[0].numel() // layer.in_features
        factor = 3 if torch.is_grad_enabled() else 1
        total[0] += factor * 2.0 * rows * layer.in_features * layer.out_features

    handles = [m.register_forward_hook(hook) for module in modules.values()
               for m in module.modules() if isinstance(m, nn.Linear)]
    try:
        result = function()
    finally:
        for handle in handles:
            handle.remove()
    return result, total[0]


def calibration_rate(rows: int, inner: int, cols: int, device: torch.device, *,
                     seconds: float = 0.25, dtype=torch.float32) -> float:
    """FLOP/s of a (rows x inner) @ (inner x cols) product on ``device``, timed here and now.

    The reference for a model's achieved rate: the same process, threads and load as the
    training that just ran, and a product shaped like the model's widest layer.
    """
    a = torch.randn(rows, inner, device=device, dtype=dtype)
    b = torch.randn(inner, cols, device=device, dtype=dtype)
    a @ b  # warm-up (allocations, kernel choice)
    _sync(device)
    count, t0 = 0, time.perf_counter()
    while True:
        a @ b
        count += 1
        _sync(device)
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds or count >= 1000:
            return 2.0 * rows * inner * cols * count / elapsed


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def adam(parameters, *, lr: float, betas=(0.9, 0.999), decoupled: bool = False,
         device: torch.device | None = None) -> torch.optim.Optimizer:
    """Adam (AdamW when ``decoupled``) with the fused kernel: one pass over the parameters per
    step instead of a dozen element-wise ops (measured 9x faster on 19M parameters, one CPU
    thread), which matters when the first layer has 3 x SNPs inputs."""
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    parameters = list(parameters)
    try:
        return cls(parameters, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError):  # a device or build without the fused kernel
        return cls(parameters, lr=lr, betas=betas)


def batches(n: int, batch_size: int, *, shuffle: bool, device,
            drop_small: bool = False) -> list[torch.Tensor]:
    """Index batches over ``n`` rows (a random permutation from the global generator).

    With ``drop_small`` a last batch smaller than half the batch size is left out (BatchNorm
    and GAN steps on a handful of rows are noise).
    """
    order = torch.randperm(n, device=device) if shuffle else torch.arange(n, device=device)
    parts = list(torch.split(order, batch_size))
    if drop_small and len(parts) > 1 and parts[-1].numel() < batch_size // 2:
        parts.pop()
    return parts


# -- phenotypes ---------------------------------------------------------------------------------
@dataclasses.dataclass
class PhenotypeScaler:
    """Standardises phenotypes to mean 0, sd 1 with the training split's moments.

    Missing values (NaN) become 0, the training mean.
    """

    names: list
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, frame) -> PhenotypeScaler:
        values = frame.to_numpy(dtype=np.float64)
        mean = np.nan_to_num(np.nanmean(values, axis=0))
        scale = np.nan_to_num(np.nanstd(values, axis=0), nan=1.0)
        scale[scale <= 0] = 1.0
        return cls(list(map(str, frame.columns)), mean, scale)

    def transform(self, values) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        if values.shape[1] != len(self.names):
            raise GeneratorError(f"expected phenotypes for {len(self.names)} trait(s) "
                                 f"({', '.join(self.names)}), got {values.shape[1]} columns")
        return np.nan_to_num((values - self.mean) / self.scale).astype(np.float32)


# -- the base class -----------------------------------------------------------------------------
class TorchGenerator(genobench.Generator):
    """Base of the deep generators: profiles, options, seeding, validation, save / load.

    Subclasses set :attr:`DEFAULTS` (hyperparameters and their defaults for the ``standard``
    profile) and :attr:`PROFILES` (what ``quick`` and ``paper`` change), and implement
    :meth:`_fit_model`, :meth:`_sample`, :meth:`_modules` and :meth:`_build`.

    Options common to all: ``epochs``, ``batch_size``, ``eval_every`` (epochs between
    validations), ``selection`` (what the kept checkpoint maximises on the validation split:
    "f1", the k-NN F1 as in the paper, or "f1+correlation", the mean of the F1 and the
    correlation score, which also rewards LD), ``patience`` (validations without improvement
    before stopping; None: never),
    ``max_seconds`` (wall-clock cap of training; the standard profile stops on patience 5 and
    100 s, :attr:`STANDARD_STOP`), ``precision`` ("float32" or "bfloat16" autocast),
    ``validation_size`` (at most this many validation individuals scored), ``knn_k`` (None:
    about n / 20), ``device`` ("auto", "cpu", "cuda"), ``generate_batch`` (rows per generation
    batch, bounds memory).
    """

    DEFAULTS: dict[str, Any] = {}
    PROFILES: dict[str, dict[str, Any]] = {"quick": {}, "standard": {}, "paper": {}}
    COMMON = dict(selection="f1", patience=None, max_seconds=None, precision="float32",
                  validation_size=1000, knn_k=None, device="auto", generate_batch=2048,
                  threads=None)
    #: What the standard profile adds for every model: stop when the validation score has not
    #: improved for ``patience`` validations (the paper kept the checkpoint where k-NN F1 stops
    #: improving), and in any case after ``max_seconds`` of wall clock.
    STANDARD_STOP = dict(patience=5, max_seconds=100.0)

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
        if options.get("selection", "f1") not in SELECTIONS:
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
        self._validation = self._validation_set(validation, validation_seed)
        with seeded(fit_seed, self.device_), cpu_threads(self.config_["threads"]):
            log = self._fit_model(train, started=started, time_limit=time_limit,
                                  progress=context.progress if context is not None else None)
            throughput = self._throughput(log)
        self.training_ = {**log.as_dict(), "throughput": throughput}
        self._validation = None

    def _throughput(self, log: TrainingLog) -> dict:
        """Achieved FLOP/s of training against a calibration product run now, in this process
        and thread setting, shaped like the widest layer at the training batch size."""
        widest = max((m for module in self._modules().values() for m in module.modules()
                      if isinstance(m, nn.Linear)), key=lambda m: m.in_features * m.out_features)
        rows = int(self.config_.get("batch_size") or 64)
        calibration = calibration_rate(rows, widest.in_features, widest.out_features,
                                       self.device_)
        epochs = len(log.history)
        achieved = None
        if log.flops_per_epoch and log.train_seconds > 0:
            achieved = log.flops_per_epoch * epochs / log.train_seconds
        return dict(
            flops_per_epoch=log.flops_per_epoch, epochs=epochs, train_seconds=log.train_seconds,
            achieved_flop_s=achieved, calibration_flop_s=calibration,
            fraction=None if achieved is None else round(achieved / calibration, 4),
            calibration_shape=[rows, widest.in_features, widest.out_features],
            threads=torch.get_num_threads(), device=str(self.device_))

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
                          max_seconds=config["max_seconds"])

    def generate(self, n: int, *, seed: int, phenotypes: np.ndarray | None = None) -> np.ndarray:
        if not hasattr(self, "config_"):
            raise GeneratorError(f"{self.name}: generate called before fit (or load)")
        cond = self._conditions(n, phenotypes, seed)
        out = np.empty((n, self.n_snps_), dtype=np.int8)
        step = int(self.config_["generate_batch"])
        with seeded(child_seeds(seed, 1)[0], self.device_), \
                cpu_threads(self.config_.get("threads")):
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

    # -- validation ------------------------------------------------------------------------
    def _validation_set(self, validation: GenotypeData | None, seed: int):
        if validation is None or validation.n_samples < 4:
            return None
        rng = np.random.default_rng(seed)
        size = min(validation.n_samples, int(self.config_["validation_size"]))
        rows = np.sort(rng.choice(validation.n_samples, size, replace=False))
        cond = None
        if self.scaler_ is not None and validation.phenotypes is not None:
            cond = torch.as_tensor(
                self.scaler_.transform(validation.phenotypes.to_numpy()[rows]))
        return dict(dosages=torch.as_tensor(validation.dosages[rows], device=self.device_),
                    cond=cond, seed=int(rng.integers(0, 2**62)))

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
            n = validation["dosages"].shape[0]
            cond = None
            if self.scaler_ is not None:
                cond = validation["cond"]
                if cond is None:
                    rows = torch.randint(0, self.train_phenotypes_.shape[0], (n,))
                    cond = torch.as_tensor(self.train_phenotypes_)[rows]
                cond = cond.to(self.device_)
            with seeded(validation["seed"], self.device_), torch.no_grad():
                synthetic = self._sample(n, cond)
            scores = knn_precision_recall(validation["dosages"], synthetic,
                                          k=self.config_["knn_k"], device=self.device_)
            scores["score"] = scores["f1"]
            if self.config_["selection"] == "f1+correlation":
                scores["correlation"] = correlation_score(validation["dosages"], synthetic)
                scores["score"] = (scores["f1"] + max(scores["correlation"], 0.0)) / 2
            return scores

        return validate

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
