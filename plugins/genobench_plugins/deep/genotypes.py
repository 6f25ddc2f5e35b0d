"""Genotypes in and out of the networks: one-hot encoding, per-SNP decoding and sampling, and
the independent-sites starting point of an output layer."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def one_hot(dosages: torch.Tensor) -> torch.Tensor:
    """Dosages (n, m) in {0, 1, 2} as flattened one-hot float32 (n, 3 m), SNP-major."""
    return F.one_hot(dosages.long(), 3).to(torch.float32).flatten(1)


def dosages_from_logits(logits: torch.Tensor, *, sample: bool = False,
                        temperature: float = 1.0) -> torch.Tensor:
    """Genotypes from per-SNP logits (n, 3 m) or (n, m, 3): argmax, or a categorical draw.

    A categorical draw from softmax(logits / temperature) is the argmax of the scaled logits
    plus Gumbel noise (the hard Gumbel-Softmax); it uses torch's global generator, so call it
    inside :func:`~.runtime.seeded`. A temperature below 1 moves the draw towards the argmax.
    """
    logits = logits.reshape(logits.shape[0], -1, 3)
    if sample:
        if temperature != 1.0:
            logits = logits / float(temperature)
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
