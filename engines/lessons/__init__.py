"""Lessons: a guided path through a pattern of the source text (no Qt).

A lesson file (`lessons/NN-name.lesson.yaml`, docs/lessons.md) names a topology
file, the variants of it a learner runs (the topology with some settings
overridden or a scenario added), the steps to follow, the questions to predict
before a run (each answered by a ledger expression) and the checks each
variant's run must pass. `model` is the file format, `loader` reads it with a
line for every error, `variants` builds a variant's topology, `judge` answers
the questions from a run's summary and `runner` runs a lesson's variants
headless (`labgui test`, the pytest plugin). Imports topology, ledger and,
lazily, the headless runner; never Qt.
"""
