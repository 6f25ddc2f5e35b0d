"""The training loop of the deep generators: epochs, validation, best-checkpoint selection and
the stopping rules (epochs, validation patience, the profile's wall-clock cap, the job's time
limit), with the optimizer and batching every model uses."""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .throughput import count_flops


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
               max_seconds: float | None = None, validate_first: bool = False,
               validate_from: int = 1) -> TrainingLog:
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
    :param validate_first: also validate after the first epoch, so that the weights training
        started from (one epoch in) compete with the trained ones.
    :param validate_from: the first epoch (1-based) whose weights the ``eval_every`` schedule
        validates; the last epoch and ``validate_first`` are validated whatever it says.
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

    def scheduled(number: int) -> bool:
        """Whether the ``eval_every`` schedule validates epoch ``number`` (1-based)."""
        return number % eval_every == 0 and number >= validate_from

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
        due = validate is not None and (scheduled(epoch + 1) or epoch + 1 == epochs
                                        or (validate_first and epoch == 0))
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
            next_due = validate is not None and scheduled(epoch + 2)
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
