"""Heritability and phenotype-prediction kernels: a GRM, Haseman-Elston regression, GBLUP
and a small MLP, each on whole matrices (no loop over pairs or individuals).

Used by the association metrics (:mod:`genobench.metrics.association`): SNP heritability of
real against synthetic individuals, and train-on-synthetic, test-on-real prediction.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..errors import DataError
from .gwas import Design
from .products import as_int8, exact_gram
from .summaries import allele_frequencies

__all__ = ["H2_GRID", "gblup_predict", "haseman_elston", "mlp_predict", "standardized",
           "vanraden_grm"]


def vanraden_grm(dosages, *, device: str = "cpu") -> np.ndarray:
    """Genomic relationship matrix ``Z Z' / sum_j 2 p_j (1 - p_j)`` with ``Z = X - 2p``.

    VanRaden's (2008) first method, with ``p`` the alternate-allele frequencies of these
    individuals. ``X X'`` is an exact integer product (:func:`.products.exact_gram`); centring is
    applied afterwards: ``Z Z' = X X' - r 1' - 1 r' + 4 p'p`` with ``r = X 2p``.

    :param dosages: (n, m) 0/1/2.
    :returns: float64 (n, n).
    """
    x = as_int8(dosages, device)
    p = allele_frequencies(x, device=device)
    gram = exact_gram(x, x).cpu().numpy().astype(np.float64)
    values = np.asarray(dosages)
    r = np.zeros(x.shape[0])
    for start in range(0, x.shape[1], 4096):
        r += values[:, start:start + 4096].astype(np.float64) @ (2.0 * p[start:start + 4096])
    denominator = float((2.0 * p * (1.0 - p)).sum())
    if not denominator > 0:
        raise DataError("GRM: every SNP is monomorphic")
    return (gram - r[:, None] - r[None, :] + 4.0 * float(p @ p)) / denominator


def haseman_elston(relationships: np.ndarray, phenotype, covariates=None) -> float:
    """SNP heritability by Haseman-Elston cross-product regression (Haseman & Elston 1972).

    The phenotype is adjusted for the covariates (OLS with intercept) and standardized; the
    products ``y_i y_j`` of distinct pairs are regressed, with an intercept, on the
    relationships ``A_ij``; the slope estimates h2. All pair sums come from matrix identities
    (``sum_{i != j} A_ij y_i y_j = y'Ay - sum_i A_ii y_i^2``, ...), never a loop over pairs.

    :param relationships: (n, n) GRM of the same individuals.
    :returns: the estimate (unbounded: sampling noise can take it outside [0, 1]).
    """
    design = Design(phenotype, covariates)
    y = design.v[:, 0]
    y = y / math.sqrt(max(design.yy / design.n, 1e-300))
    a = relationships[np.ix_(design.keep, design.keep)]
    n = y.size
    pairs = n * (n - 1)
    diagonal = np.diag(a)
    sum_a = a.sum() - diagonal.sum()
    sum_aa = (a * a).sum() - (diagonal * diagonal).sum()
    sum_z = y.sum() ** 2 - (y * y).sum()
    sum_az = y @ a @ y - (diagonal * y * y).sum()
    spread = pairs * sum_aa - sum_a ** 2
    if not spread > 0:
        return float("nan")
    return float((pairs * sum_az - sum_a * sum_z) / spread)


def standardized(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Dosages standardized with the training set's frequencies, float32, (n, m_poly) each."""
    p = train.mean(axis=0, dtype=np.float64) / 2.0
    keep = (p > 0) & (p < 1)
    centre, scale = 2.0 * p[keep], np.sqrt(2.0 * p[keep] * (1.0 - p[keep]) * keep.sum())
    centre, scale = centre.astype(np.float32), scale.astype(np.float32)
    return [(x[:, keep].astype(np.float32) - centre) / scale for x in (train, *others)]


#: Heritabilities tried by GBLUP; the one with the smallest leave-one-out error is used.
H2_GRID = np.linspace(0.05, 0.95, 19)


def gblup_predict(z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray,
                  *, device: str = "cpu") -> np.ndarray:
    """GBLUP (ridge regression on standardized SNPs, in kernel form) with h2 chosen by LOO.

    ``K = Z Z'`` (columns of ``Z`` scaled so the mean diagonal is about 1), prediction
    ``K_* (K + lambda I)^-1 y`` with ``lambda = (1 - h2) / h2``; the leave-one-out residuals
    ``e_i / (1 - H_ii)`` of every h2 in :data:`H2_GRID` come from one eigendecomposition.
    """
    zt = torch.as_tensor(z_train, device=device)
    k = (zt @ zt.T).double().cpu().numpy()
    k_test = (torch.as_tensor(z_test, device=device) @ zt.T).double().cpu().numpy()
    d, u = np.linalg.eigh((k + k.T) / 2)
    d = np.maximum(d, 0.0)
    uy = u.T @ y_train
    best, best_press = None, np.inf
    for h2 in H2_GRID:
        shrink = d / (d + (1 - h2) / h2)
        fitted = u @ (shrink * uy)
        leverage = (u * u) @ shrink
        press = float((((y_train - fitted) / (1 - leverage)) ** 2).sum())
        if press < best_press:
            best, best_press = h2, press
    return k_test @ (u @ (uy / (d + (1 - best) / best)))


def mlp_predict(z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, *, seed: int,
                hidden: int = 32, max_epochs: int = 100, patience: int = 10,
                device: str = "cpu") -> np.ndarray:
    """A small neural network (SNPs -> ``hidden`` ReLU units -> 1) on standardized SNPs.

    Adam (learning rate 1e-3, weight decay 1e-3), minibatches of 128; a fifth of the training
    individuals is held out and the weights of the epoch with the lowest held-out MSE are kept
    (early stopping). Initial weights and batches come from ``seed`` only (the global torch
    random state is restored afterwards).
    """
    y_mean, y_sd = float(y_train.mean()), float(y_train.std()) or 1.0
    target = ((y_train - y_mean) / y_sd).astype(np.float32)
    rng = np.random.default_rng(seed)
    order = rng.permutation(y_train.size)
    n_val = max(1, y_train.size // 5)
    val, fit = order[:n_val], order[n_val:]
    x = torch.as_tensor(z_train, device=device)
    y = torch.as_tensor(target, device=device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(rng.integers(2**31)))
        model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(),
                                    torch.nn.Linear(hidden, 1)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-3)
    held_out_rows = torch.as_tensor(val, device=device)

    def held_out_loss() -> float:
        model.eval()
        with torch.no_grad():
            return float(torch.mean((model(x[held_out_rows]).squeeze(1)
                                     - y[held_out_rows]) ** 2))

    best_loss, waited = held_out_loss(), 0
    best_state = {key: t.detach().clone() for key, t in model.state_dict().items()}
    for _ in range(max_epochs):
        model.train()
        shuffled = rng.permutation(fit)
        for start in range(0, shuffled.size, 128):
            batch = torch.as_tensor(shuffled[start:start + 128], device=device)
            optimizer.zero_grad()
            loss = torch.mean((model(x[batch]).squeeze(1) - y[batch]) ** 2)
            loss.backward()
            optimizer.step()
        loss = held_out_loss()
        if loss < best_loss - 1e-6:
            best_loss, waited = loss, 0
            best_state = {key: t.detach().clone() for key, t in model.state_dict().items()}
        else:
            waited += 1
            if waited >= patience:
                break
    model.load_state_dict(best_state)
    with torch.no_grad():
        predicted = model(torch.as_tensor(z_test, device=device)).squeeze(1).cpu().numpy()
    return predicted.astype(np.float64) * y_sd + y_mean
