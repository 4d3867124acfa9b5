"""Archetypes: one function per attacker story, each adding its actors and sessions to a world."""
