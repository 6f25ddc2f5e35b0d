"""The generator interface every genotype simulator implements.

A generator is a small class (the pattern of stdpopsim's engines and llm's models): the harness
instantiates it with hyperparameters, calls :meth:`Generator.fit` on the training split and
:meth:`Generator.generate` for as many individuals as the test split holds. Randomness comes in
as a keyword-only ``seed``; child seeds are derived with ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from .data import GenotypeData
from .errors import GeneratorError

#: Training budgets a run can ask for (the deep-model issue gives them meaning per model).
PROFILES = ("quick", "standard", "paper")


@dataclasses.dataclass
class FitContext:
    """What the harness knows besides the training data, handed to :meth:`Generator.fit`.

    :ivar validation: the validation split (for checkpoint selection).
    :ivar reference: the suite's reference draws (real individuals no split holds, each the
        test split's size), for the reference row only (:mod:`genobench.anchors`).
    :ivar source: the suite's ``[source]`` table as validated (for example the stdpopsim
        species, demographic model and contig), so a generator can re-simulate from it.
    :ivar suite: the suite name.
    :ivar profile: training budget, one of :data:`PROFILES`.
    :ivar time_limit: wall-clock seconds training may use, or None; stop cleanly before it.
    :ivar device: "cpu" or "cuda", as torch finds it.
    :ivar progress: callback ``progress(step, total, **values)`` for long training, or None.
    """

    validation: GenotypeData | None = None
    reference: list | None = None
    source: dict = dataclasses.field(default_factory=dict)
    suite: str = ""
    profile: str = "quick"
    time_limit: float | None = None
    device: str = "cpu"
    progress: Callable[..., None] | None = None


class Generator:
    """Base class of genotype generators.

    Subclasses set the class attributes and implement :meth:`fit` and :meth:`generate`.
    Hyperparameters arrive as keyword arguments to ``__init__`` and are kept in
    :attr:`options`, which is recorded with every result.
    """

    #: Unique registry name, lower case (``"independent_sites"``).
    name: str = ""
    #: One sentence shown by ``genobench list`` and in leaderboards.
    description: str = ""
    #: Reference to cite for the method.
    citation: str = ""
    #: True when :meth:`generate` accepts ``phenotypes`` (conditional generation).
    supports_phenotypes: bool = False
    #: True for reference rows that are not models (the real holdout).
    is_reference: bool = False

    def __init__(self, **options: Any):
        self.options = dict(options)

    def fit(self, train: GenotypeData, *, seed: int, context: FitContext | None = None) -> None:
        """Learn from the training split.

        :param train: training individuals x SNPs.
        :param seed: integer seed; derive child seeds from ``numpy.random.default_rng(seed)``.
        :param context: validation split, suite source, profile, time limit, device.
        """
        raise NotImplementedError

    def generate(self, n: int, *, seed: int, phenotypes: np.ndarray | None = None) -> np.ndarray:
        """Return ``n`` synthetic individuals on the training SNPs.

        :param n: number of individuals.
        :param seed: integer seed.
        :param phenotypes: float array (n, n_traits) to condition on, when
            :attr:`supports_phenotypes`; otherwise None.
        :returns: int8 array (n, n_snps) with values in {0, 1, 2}.
        """
        raise NotImplementedError

    def fit_report(self) -> dict[str, Any] | None:
        """What the last :meth:`fit` did, as plain JSON values, or None (the default).

        The harness stores it with the job record (``training``), and the leaderboard's
        Training table reads these keys where present (any other key is kept as it is):

        - ``epochs``: epochs run; ``stopped``: why training ended ("epochs", "patience",
          "max_seconds", "time_limit", or the plugin's own word); ``best_epoch``: the epoch of
          the kept weights; ``seconds``: wall-clock seconds of the fit; ``max_seconds``: the
          wall-clock cap it had, or None.
        - ``flops_fraction``: achieved FLOP/s of the dense layers over the rate of a
          calibration product timed in the same process (0..1).
        - ``validations``: one dict per validation, with ``epoch`` and the signals measured on
          the validation split: ``correlation`` (correlation score), ``f1``, ``precision``,
          ``recall``, ``membership`` (membership-inference AUC, training vs validation
          individuals), ``privacy_loss``.
        - ``leak_sources``: {what: AUC}, how well a part of the fitted model read directly (a
          reconstruction error, a critic's score) tells training individuals from validation
          ones (membership-inference ROC AUC, 0.5 = not at all).

        From these the leaderboard says, measured, why a trained model stays weak (for
        example: its validation correlation score levelled off early, or the cap ended
        training while it still improved). A report that is no mapping of JSON values is
        recorded as an error line; the job's results are kept.
        """
        return None

    # -- saved models ------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """What a saved model holds: a flat dict of numpy arrays and plain JSON values.

        The default collects the public attributes ending in ``_`` that :meth:`fit` set
        (``frequencies_``...), which serves a generator whose fitted state is arrays and
        numbers; override it (with :meth:`set_state`) for anything else, such as torch modules.
        Arrays must hold numbers or strings (no objects): model files never carry code.
        """
        state = {key: value for key, value in vars(self).items()
                 if key.endswith("_") and not key.startswith("_")}
        if not state:
            raise GeneratorError(f"{self.name}: nothing to save; fit the generator first")
        return state

    def set_state(self, state: dict[str, Any], *, device: str | None = None) -> None:
        """Restore what :meth:`get_state` returned, on a fresh instance built from the options.

        The default sets each entry as an attribute. ``state["snp_ids_"]`` holds the panel's
        SNP ids (the file's header keeps them). :param device: "cpu", "cuda" or None (the
        generator's own choice), for generators that place tensors.
        """
        for key, value in state.items():
            setattr(self, key, value)

    def save(self, path, *, snp_ids=None, suite: str = "") -> None:
        """Write the fitted generator to ``path`` as a model file (:mod:`genobench.modelfile`).

        :param snp_ids: the training panel's SNP ids (default: the ``snp_ids_`` attribute).
        :param suite: the suite's name, recorded so a panel mismatch can name it.
        """
        from .modelfile import save_model

        save_model(self, path, snp_ids=snp_ids, suite=suite)

    @classmethod
    def load(cls, path, *, device: str | None = None, snp_ids=None, suite: str = ""
             ) -> Generator:
        """Read a model file written by :meth:`save`; never runs code from the file.

        Called on a subclass, the file must hold that generator; on :class:`Generator` the
        registry picks the class from the file's header. With ``snp_ids`` the model must have
        been trained on exactly that panel. Errors are :class:`~genobench.errors.DataError`.
        """
        from .modelfile import load_model

        return load_model(path, generator=cls.name or None, snp_ids=snp_ids, suite=suite,
                          device=device)
