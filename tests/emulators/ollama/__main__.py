"""``python -m tests.emulators.ollama``: run the emulator as its own process."""

from tests.emulators.ollama.server import main

raise SystemExit(main())
