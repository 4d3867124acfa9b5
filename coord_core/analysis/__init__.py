"""Coordination analytics: fingerprints, detectors, grouping, verdicts and calibrated confidence.

Stages (``engine``) run as nodes of the ``coord_core.workflow`` graph: build the columnar frame
(``frame``), screen the window, propose links (``linking``: shared artefacts, command templates
with their optional steps and MinHash-LSH near-duplicates, pair likeness, credential overlap,
shared and burst guesses, dictionary partitioning, one uncommon client across a /24, each value
judged against its history in ``prevalence``), group sources under conflict rules
(``grouping``), look sources up (``infrastructure``, ``scanners``), test timing against a
permutation null (``temporal``), decide verdicts (``verdicts``) and calibrate (``calibration``).
"""
