"""Phenotypes as the conditional generators see them: standardised with the training split's
moments."""

from __future__ import annotations

import dataclasses

import numpy as np

from genobench import GeneratorError


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
