"""Campaigns over time: activity series, spike detection and indicator movement (pure, no I/O)."""
