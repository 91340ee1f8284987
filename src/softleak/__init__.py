"""softleak: soft labels leak held-out memorized teacher knowledge.

The shared package behind the book that reproduces Behrens & Zdeborová, *Dataset distillation
for memorized data: soft labels can leak held-out teacher knowledge*. Modules, by responsibility
(dependencies point one way; ``tests/test_setup.py`` reads the import graph for cycles):

runtime, config, rules (claim rules, evidence, ``Claim``; no imports) -> theory -> metrics -> data / models /
training / distillation -> audit (stats -> core -> cli, example); rules -> chapters (``Chapter``, ``Figure``,
``Part``, ``Verdicts``, the registry) -> provenance -> sweeps, claims -> presets -> plan; metrics -> plotting;
all of them -> experiments.<chapter> -> notebook -> pages / book

A chapter is a package ``experiments/<name>/``: ``config.py`` (config, presets, deviations), its run modules
(``runs.py``; chapter 2 splits teachers, students, ensembles), ``common.py`` and one module per figure named
after it (``fig18.py``), each holding that figure's table, claims, sentences and plot call. Its
``__init__`` registers a :class:`softleak.chapters.Chapter`; lower modules ask :mod:`softleak.chapters` for a
chapter (:func:`softleak.experiments.load_all` imports them all), never by importing upward.

``softleak.audit`` is also a command line (``python -m softleak.audit``) that audits a release of your own.
"""

__version__ = "0.1.0"
RESULT_SCHEMA_VERSION = 1  # bump when a results table changes meaning: invalidates every cache
