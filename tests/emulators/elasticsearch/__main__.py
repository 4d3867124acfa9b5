"""``python -m tests.emulators.elasticsearch``: run the emulator as its own process."""

from tests.emulators.elasticsearch.server import main

raise SystemExit(main())
