"""A MISP emulator for tests: real HTTP on 127.0.0.1 that the unmodified PyMISP talks to."""

from tests.emulators.misp.server import MispEmulator

__all__ = ["MispEmulator"]
