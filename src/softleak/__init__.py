"""softleak: soft labels leak held-out memorized teacher knowledge.

The shared package behind the book that reproduces Behrens & Zdeborová, *Dataset distillation
for memorized data: soft labels can leak held-out teacher knowledge*. Modules, by responsibility
(dependencies point one way):

runtime, config -> theory -> metrics -> data / models / training / distillation -> audit (stats -> core -> cli,
example) -> chapters -> provenance -> sweeps -> rules -> claims / presets / plan -> plotting -> experiments.*
-> pages / book

Lower modules find a chapter through :mod:`softleak.chapters` (each chapter module registers itself on import;
:func:`softleak.experiments.load_all` imports them all), never by importing upward.

``softleak.audit`` is also a command line (``python -m softleak.audit``) that audits a release of your own.
"""

__version__ = "0.1.0"
RESULT_SCHEMA_VERSION = 1  # bump when a results table changes meaning: invalidates every cache
