"""Values shared by unrelated actors everywhere, known before looking at any window.

Default and top-of-every-list passwords, and public hosting/code-sharing hosts (plus the
Tranco top-10k domains shipped with ``pymispwarninglists``): sharing one of these is no sign
of a common operator, whatever the window shows.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path


def _words(text: str) -> list[str]:
    return text.split()


# The defaults and the head of every public brute-force list (rockyou, SecLists top, Mirai).
COMMON_PASSWORDS: frozenset[str] = frozenset(
    _words(
        """
    123456 123456789 12345678 12345 1234 123 1234567 1234567890 111111 000000 123123 654321 password
    password1 password123 passw0rd p@ssw0rd P@ssw0rd Passw0rd admin admin123 admin1234 administrator
    root toor root123 qwerty qwerty123 abc123 1q2w3e4r 1qaz2wsx letmein welcome test test123 guest
    user ubuntu support default pass 1 0 raspberry changeme 888888 666666 oracle postgres mysql ftp
    ftpuser service system alpine vizxv xc3511 888888 54321 7ujMko0admin Zte521 anko hi3518 jvbzd
    klv123 klv1234 xmhdipc juantech realtek 12qwaszx qwe123 123qwe 1234qwer qwer1234 dreambox
    uClinux user123 pi ubnt hikvision tomcat nagios hadoop git Aa123456 Aa@123456 Aa123456789 a123456
    abc123456 123456a 1q2w3e 1q2w3e4r5t qwe123456 zxcvbnm asdfgh iloveyou monkey dragon 11111111
    00000000 1111 0000 12341234 88888888 147258369 q1w2e3r4 admin@123 Admin@123 root@123 test1234
        """
    )
)

PUBLIC_HOSTS: frozenset[str] = frozenset(
    _words(
        """
    github.com raw.githubusercontent.com gist.githubusercontent.com objects.githubusercontent.com
    codeload.github.com gitlab.com bitbucket.org pastebin.com paste.ee transfer.sh dl.google.com
    google.com www.google.com pypi.org files.pythonhosted.org archive.ubuntu.com deb.debian.org
    dl-cdn.alpinelinux.org cdn.discordapp.com ipinfo.io ifconfig.me api.ipify.org icanhazip.com
    checkip.amazonaws.com
        """
    )
)


@functools.cache
def _tranco_top() -> frozenset[str]:
    try:
        import pymispwarninglists
    except ImportError:  # pragma: no cover - a declared dependency
        return frozenset()
    path = (
        Path(pymispwarninglists.__file__).parent
        / "data"
        / "misp-warninglists"
        / "lists"
        / "tranco10k"
        / "list.json"
    )
    if not path.is_file():
        return frozenset()
    return frozenset(str(d).lower().rstrip(".") for d in json.loads(path.read_text(encoding="utf-8"))["list"])


_LEET = {"@": "a", "4": "a", "3": "e", "0": "o", "$": "s", "5": "s", "7": "t", "1": "i", "!": "i"}
# Affixes that cracking rules append (hashcat/john style): digit runs, years, symbols.
_RULE_SUFFIX = re.compile(r"(?:[!@#$%^&*.?_~-]+|(?:19|20)\d\d|123456|12345|1234|123|321|01|1)$")
_STEM_MIN = 3


def _unleet(text: str) -> str:
    """Undo leet substitutions inside words (``5umm3r42`` -> ``summer42``), not in digit runs."""
    out = []
    for i, ch in enumerate(text):
        if ch in _LEET:
            before = text[i - 1] if i else ""
            after = text[i + 1] if i + 1 < len(text) else ""
            if (not before or before.isalpha()) and after.isalpha():
                out.append(_LEET[ch])
                continue
        out.append(ch)
    return "".join(out)


@functools.lru_cache(maxsize=1 << 18)
def password_stem(password: str) -> str | None:
    """The base word of a rule-mutated password (``Summer42@123`` -> ``summer42``), if it has one.

    Cracking tools expand a word list with rules (case, leet, digit/year/symbol suffixes);
    entries of one expanded list share base words even when no two sources try the same password.
    """
    text = _unleet(password.strip().lower())
    for _ in range(4):
        stripped = _RULE_SUFFIX.sub("", text)
        if stripped == text or len(stripped) < _STEM_MIN:
            break
        text = stripped
    text = text.strip("!@#$%^&*._-~ ")
    letters = sum(ch.isalpha() for ch in text)
    if letters < _STEM_MIN or not text.isascii() or not text.isalnum():
        return None
    half = len(text) // 2
    if len(text) % 2 == 0 and text[:half] == text[half:]:
        text = text[:half]  # the duplicate rule
    return min(text, text[::-1])[:32]  # the reverse rule: a word and its reversal are one stem


@functools.cache
def common_stems() -> frozenset[str]:
    """Stems of the common passwords and usernames: sharing them says nothing."""
    words = set(COMMON_PASSWORDS) | {"administrator", "support", "service", "operator", "default", "manager"}
    return frozenset(stem for w in words if (stem := password_stem(w)))


def is_common_password(password: str) -> bool:
    return password in COMMON_PASSWORDS or password.lower() in COMMON_PASSWORDS or len(password) <= 1


def is_public_host(host: str) -> bool:
    """A public service host (or a subdomain of one), never a campaign's own infrastructure."""
    host = host.lower()
    if host in PUBLIC_HOSTS:
        return True
    top = _tranco_top()
    parts = host.split(".")
    return any(".".join(parts[i:]) in top for i in range(len(parts) - 1))
