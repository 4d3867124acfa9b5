"""Writes .env.compose from deploy/compose.env.example with fresh secrets (stdlib only, no overwrite)."""

from __future__ import annotations

import argparse
import base64
import os
import re
import secrets
import sys
from pathlib import Path

PLACEHOLDER = "<generated>"
REFERENCE = re.compile(r"\{([A-Z][A-Z0-9_]*)\}")


def new_secret(key: str) -> str:
    """A Fernet key where Airflow needs one, else 32 random bytes as hex (safe inside URLs)."""
    if key == "AIRFLOW__CORE__FERNET_KEY":
        return base64.urlsafe_b64encode(os.urandom(32)).decode()
    return secrets.token_hex(32)


def render(template: str) -> str:
    """The template with every placeholder generated and every {NAME} replaced by NAME's value."""
    pairs: list[tuple[str, str] | str] = []
    values: dict[str, str] = {}
    for line in template.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            pairs.append(line)
            continue
        key, _, value = line.partition("=")
        if value == PLACEHOLDER:
            value = new_secret(key)
        values[key] = value
        pairs.append((key, value))

    def resolve(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise SystemExit(f"{{{name}}} is referenced but not defined in the template")
        return values[name]

    lines = [p if isinstance(p, str) else f"{p[0]}={REFERENCE.sub(resolve, p[1])}" for p in pairs]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--template", type=Path, default=here / "compose.env.example")
    parser.add_argument("--out", type=Path, default=here.parent / ".env.compose")
    args = parser.parse_args(argv)
    if args.out.exists():
        print(f"{args.out} exists: kept (delete it to generate new secrets)", file=sys.stderr)
        return 0
    text = render(args.template.read_text())
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
