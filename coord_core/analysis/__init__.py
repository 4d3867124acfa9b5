"""Coordination analytics: fingerprints, detectors, grouping, verdicts and calibrated confidence.

Stages (``engine``) run as nodes of the ``coord_core.workflow`` graph: build the columnar frame
(``frame``), screen the window, propose links (``linking``: artefacts, MinHash-LSH command
similarity, credential overlap and dictionary partitioning), group sources under conflict rules
(``grouping``), look sources up (``infrastructure``, ``scanners``), test timing against a
permutation null (``temporal``), decide verdicts (``verdicts``) and calibrate (``calibration``).
"""
