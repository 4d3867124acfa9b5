"""Accuracy of the coordination analysis: on generated scenarios with known truth, and on real logs.

``metrics`` holds the metric functions over label arrays, ``labels`` lines a truth up with an
analysis result, ``suites`` says which cases to run, ``harness`` runs them through the real
ingest path and ``analyze_sessions``, ``table`` prints the result. ``silver`` checks the analysis
on logs without truth: silver groups from independent strong signals, each switched off in turn.
"""
