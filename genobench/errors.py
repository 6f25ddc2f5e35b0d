"""The genobench exception family.

Every mistake a user can make (a malformed suite file, a missing input, a plugin that misbehaves)
raises a subclass of :class:`GenobenchError`. The command line prints ``str(error)`` as one line
and exits non-zero; it never shows a traceback for these.
"""

from __future__ import annotations


class GenobenchError(Exception):
    """Base class of every error genobench reports to a user as a single line."""


class SpecError(GenobenchError):
    """A suite file is malformed: bad TOML, an unknown key, a wrong type or an impossible value.

    The message names the file, the key and what was expected.
    """


class DataError(GenobenchError):
    """Genotype or phenotype data is invalid: wrong dtype or shape, values outside {0,1,2},
    mismatched SNP or sample ids, an unreadable or missing input file."""


class PluginError(GenobenchError):
    """A plugin failed to load, registered something invalid, or registered a duplicate name."""


class UnknownNameError(GenobenchError):
    """A generator, metric or suite source was asked for by a name nobody registered."""


class GeneratorError(GenobenchError):
    """A generator raised while fitting or generating, or returned invalid genotypes."""


class JobTimeoutError(GeneratorError):
    """A job ran past its time limit and was stopped."""


class JobMemoryError(GeneratorError):
    """A job used more memory than its limit and was stopped."""


class ResultsError(GenobenchError):
    """Stored results are missing, unreadable, or an output folder cannot be used."""
