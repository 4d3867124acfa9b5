"""A deliberately simple, exact-artefact analyzer: the reference the full analytics must beat."""
