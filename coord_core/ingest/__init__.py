"""Ingest: raw Cowrie/DShield records -> events -> sessions, with every bad record kept."""
