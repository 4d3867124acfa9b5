"""Accuracy of the coordination analysis on generated scenarios with known truth.

``metrics`` holds the metric functions over label arrays, ``labels`` lines a truth up with an
analysis result, ``suites`` says which cases to run, ``harness`` runs them through the real
ingest path and ``analyze_sessions``, ``table`` prints the result.
"""
