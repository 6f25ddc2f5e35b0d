"""The torch pieces genobench's deep generators (VAE, GAN, WGAN-GP, PCA diffusion) share.

- :mod:`.runtime`: the device, seeding without global side effects, CPU threads;
- :mod:`.layers`: layer widths and the seed paper's residual MLP;
- :mod:`.genotypes`: one-hot encoding, per-SNP decoding and sampling, the independent-sites
  starting bias;
- :mod:`.training`: the training loop with best-checkpoint selection and its stopping rules,
  the optimizer and batches;
- :mod:`.throughput`: FLOP counting and the calibration product a fit's FLOP/s is judged by;
- :mod:`.checkpoints`: validation scores from genobench's public kernels (the leaderboard's
  k-NN rule, and the membership and privacy-loss gates computed on the validation split);
- :mod:`.local_ld`: the autoregressive local-LD output layer, and its lags from the training
  split's LD extent;
- :mod:`.mixture`, :mod:`.pca`: Gaussian-mixture sampling and the PCA codec;
- :mod:`.temperature`: the sampling temperature chosen on the validation split;
- :mod:`.phenotypes`: phenotype standardisation for the conditional models;
- :mod:`.base`: :class:`TorchGenerator`, which ties these together.
"""

from .base import PRECISIONS, TIME_LIMIT_SHARE, TorchGenerator
from .checkpoints import (
    PRIVACY_ALLOWANCE,
    PRIVACY_WEIGHT,
    SELECTIONS,
    checkpoint_scores,
    correlation_score,
    knn_precision_recall,
    privacy_scores,
)
from .genotypes import dosages_from_logits, genotype_log_frequencies, one_hot
from .layers import LEAKY_SLOPE, ResidualBlock, ResidualMLP, power_of_two_width, scaled_width
from .phenotypes import PhenotypeScaler
from .runtime import child_seeds, cpu_threads, resolve_device, seeded, synchronize
from .throughput import calibration_rate, count_flops, differentiated_twice, training_throughput
from .training import TrainingLog, adam, batches, train_loop

__all__ = [
    "LEAKY_SLOPE", "PRECISIONS", "PRIVACY_ALLOWANCE", "PRIVACY_WEIGHT", "SELECTIONS",
    "TIME_LIMIT_SHARE", "PhenotypeScaler", "ResidualBlock", "ResidualMLP", "TorchGenerator",
    "TrainingLog", "adam", "batches", "calibration_rate", "checkpoint_scores", "child_seeds",
    "correlation_score", "count_flops", "cpu_threads", "differentiated_twice",
    "dosages_from_logits",
    "genotype_log_frequencies", "knn_precision_recall", "one_hot", "power_of_two_width",
    "privacy_scores", "resolve_device", "scaled_width", "seeded", "synchronize", "train_loop",
    "training_throughput",
]
