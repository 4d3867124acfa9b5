"""Values shared by unrelated actors everywhere, known before looking at any window.

Default and top-of-every-list passwords, and public hosting/code-sharing hosts (plus the
Tranco top-10k domains shipped with ``pymispwarninglists``): sharing one of these is no sign
of a common operator, whatever the window shows.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
import string
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

# The recon one-liners every toolkit and every hand at a shell types first (the head of the
# public honeypot command tops: DShield, Cowrie and T-Pot reports), as command templates write
# them (``coord_core.analysis.normalise``: numbers as ``<n>``, quoted text as ``<s>``).
COMMON_COMMANDS: frozenset[str] = frozenset(
    {
        "uname", "uname -a", "uname -m", "uname -r", "uname -s", "uname -n", "uname -s -v -n -r -m",
        "whoami", "id", "w", "who", "uptime", "hostname", "pwd", "ls", "ls -l", "ls -la", "ls -al",
        "ls -lh $(which ls)", "which ls", "nproc", "free", "free -m", "free -h", "df", "df -h", "top",
        "ps", "ps aux", "ps -ef", "ifconfig", "ip a", "ip addr", "last", "history", "crontab -l",
        "lscpu", "lscpu | grep Model", "cat /proc/cpuinfo", "cat /proc/meminfo", "cat /etc/issue",
        "cat /etc/os-release", "cat /etc/passwd", "cat /proc/version", "cat /proc/mounts",
        "cat /proc/cpuinfo | grep name | wc -l", "cat /proc/cpuinfo | grep model | grep name | wc -l",
        "cd /tmp", "cd ~", "cd /", "exit", "logout", "clear", "echo ok", "echo <n>", "echo test",
    }
)  # fmt: skip

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
def tranco_top() -> frozenset[str]:
    """The Tranco top-10k domains shipped with ``pymispwarninglists`` (popular, so public)."""
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


# Values a sensor writes when there is nothing to record: never evidence that two sources met.
PLACEHOLDER_PATHS: frozenset[str] = frozenset({"", "-", "/dev/null", "/dev/zero", "none", "null"})
EMPTY_CONTENT_HASHES: frozenset[str] = frozenset(
    {
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # sha256 of nothing
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",  # sha1 of nothing
        "d41d8cd98f00b204e9800998ecf8427e",  # md5 of nothing
    }
)


def is_placeholder_url(url: str | None) -> bool:
    """A download ``url`` that names no remote resource (scp/redirect transfers, ``/dev/null``)."""
    if url is None:
        return True
    text = url.strip().lower()
    return text in PLACEHOLDER_PATHS or text.startswith(("/", "./", "file:"))


def is_placeholder_hash(shasum: str | None) -> bool:
    """No hash, or the hash of empty content (every empty transfer has it)."""
    return not shasum or not shasum.strip() or shasum.strip().lower() in EMPTY_CONTENT_HASHES


RANDOM_SECRET_MIN_BITS = 60.0
_KEY_ROWS = ("1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./")
_KEY_AT = {ch: (r, c + 0.5 * r) for r, row in enumerate(_KEY_ROWS) for c, ch in enumerate(row)}
_KEY_AT.update({shifted: _KEY_AT[base] for shifted, base in zip("!@#$%^&*()_+", "1234567890-=", strict=True)})


_KEY_NEIGHBOURS = frozenset(
    a + b
    for a, (ra, ca) in _KEY_AT.items()
    for b, (rb, cb) in _KEY_AT.items()
    if abs(ra - rb) <= 1 and abs(ca - cb) <= 1.5
)


def _keyboard_walk(text: str) -> bool:
    """Most consecutive keys are neighbours on the keyboard (``1q2w3e4r``, ``zaq12wsx``)."""
    lower = text.lower()
    keys = _KEY_AT
    known = neighbours = 0
    for a, b in itertools.pairwise(lower):
        if a in keys and b in keys:
            known += 1
            neighbours += a + b in _KEY_NEIGHBOURS
    return known > 0 and neighbours >= 0.6 * (len(text) - 1)


_DIGIT_RUN = re.compile(r"\d{2,}")


def _char_class(ch: str) -> int:
    return 0 if ch.islower() else 1 if ch.isupper() else 2 if ch.isdigit() else 3


def _class_changes(text: str) -> int:
    """Changes of character class along the text once leet is read as letters (digit runs such
    as years stay digits): a random draw changes class often, a mutated word rarely."""
    kept = {i for m in _DIGIT_RUN.finditer(text) for i in range(m.start(), m.end())}
    read = [ch if i in kept else _LEET.get(ch, ch) for i, ch in enumerate(text)]
    return sum(_char_class(a) != _char_class(b) for a, b in itertools.pairwise(read))


_CONSONANT_RUN = re.compile(r"[bcdfghjklmnpqrstvwxz]{5,}")
_LETTER_RUN = re.compile(r"[a-z]+")
_WORD_EDGE = "^"  # a run's start and end, one more symbol of the bigram model


@functools.cache
def _letter_bigrams() -> dict[tuple[str, str], float] | None:
    """log2 P(next letter | letter) in words people and sites pick (the Tranco top-10k domains'
    labels and the common passwords), add-half smoothed; None when the Tranco list is missing."""
    domains = tranco_top()
    if not domains:
        return None
    counts: dict[tuple[str, str], int] = {}
    for text in itertools.chain((label for d in domains for label in d.split(".")[:-1]), COMMON_PASSWORDS):
        for run in _LETTER_RUN.findall(text.lower()):
            if len(run) >= 3:
                edged = _WORD_EDGE + run + _WORD_EDGE
                for pair in itertools.pairwise(edged):
                    counts[pair] = counts.get(pair, 0) + 1
    symbols = string.ascii_lowercase + _WORD_EDGE
    out: dict[tuple[str, str], float] = {}
    for a in symbols:
        total = sum(counts.get((a, b), 0) for b in symbols) + 0.5 * len(symbols)
        for b in symbols:
            out[a, b] = math.log2((counts.get((a, b), 0) + 0.5) / total)
    return out


def _off_keyboard(run: str) -> str:
    """A letter run without a walk along the keyboard of 4 keys or more at its start or end, where
    people put one (``zxcv``phoenix, dragon``qwerty``); a walk inside a run is letters like others."""

    def walk(text: str) -> int:
        length = 1
        while length < len(text) and text[length - 1] + text[length] in _KEY_NEIGHBOURS:
            length += 1
        return length if length >= 4 else 0

    run = run[walk(run) :]
    return run[: len(run) - walk(run[::-1])]


# Prior odds that a shared password's letters are a word (a list's entry) against a fresh draw:
# letters are taken for a draw only when the draw explains them 2^6 = 64 times better.
DRAW_PRIOR_BITS = 6.0
_UNIFORM_LETTER_BITS = math.log2(1.0 / (len(string.ascii_lowercase) + 1))  # a letter or a run's edge


def _wordlike(letters: str) -> bool:
    """Whether letters read as words rather than a draw: the log2 likelihood ratio of letters
    drawn uniformly against a letter-bigram model of words, over the letter runs, stays within
    the prior's ``DRAW_PRIOR_BITS``; a run along the keyboard (``asdfgh``) is a word too.

    Without the word model, vowels and short consonant runs decide (``vlbgfedymgbhffpw``).
    """
    runs = _LETTER_RUN.findall(letters.lower())
    model = _letter_bigrams()
    if model is None:
        text = "".join(runs)
        vowels = sum(c in "aeiouy" for c in text)
        return vowels >= 0.2 * len(text) and not _CONSONANT_RUN.search(text)
    draw_bits = sum(
        _UNIFORM_LETTER_BITS - model[pair]
        for run in runs
        if (piece := _off_keyboard(run))
        for pair in itertools.pairwise(_WORD_EDGE + piece + _WORD_EDGE)
    )
    return draw_bits <= DRAW_PRIOR_BITS


@functools.lru_cache(maxsize=1 << 18)
def secret_bits(text: str) -> float:
    """Estimated entropy of a random-looking secret in bits; 0 for anything a person would pick.

    Length times the log of the character classes used, for strings with no base word (a
    rule-mutated word is not random), at least 10 characters, two classes and few repeats.
    Two independent actors do not draw the same 60-bit string: sharing one is near-artefact.
    """
    if len(text) < 10 or len(text) > 128 or not text.isascii() or not text.isprintable():
        return 0.0
    classes = [
        any(c.islower() for c in text),
        any(c.isupper() for c in text),
        any(c.isdigit() for c in text),
        any(not c.isalnum() for c in text),
    ]
    if sum(classes) < 2 or len(set(text)) < 0.6 * len(text):
        return 0.0
    stem = password_stem(text)
    if (stem is not None and stem.isalpha() and len(stem) >= 4 and _wordlike(stem)) or _keyboard_walk(text):
        return 0.0
    core = text
    for _ in range(4):  # the rule-added affixes (``!``, ``@2024``, ``#1``) and a capital first letter
        stripped = _RULE_SUFFIX.sub("", core)
        if stripped == core:
            break
        core = stripped
    core = core[:1].lower() + core[1:]
    if len(core) < 8 or (_class_changes(core) < 3 and _wordlike(_unleet(core.lower()))):
        return 0.0  # a word with rules applied (``m@$tfr33d0m1``, ``Linux742025``), not drawn at random
    alphabet = 26 * classes[0] + 26 * classes[1] + 10 * classes[2] + 33 * classes[3]
    return round(len(text) * math.log2(alphabet), 3)


@functools.lru_cache(maxsize=1 << 18)
def is_common_password(password: str) -> bool:
    """A default, a head-of-list password, or a keyboard walk (``!qaz@WSX``): everybody tries them."""
    return (
        password in COMMON_PASSWORDS
        or password.lower() in COMMON_PASSWORDS
        or len(password) <= 1
        or (len(password) >= 6 and _keyboard_walk(password))
    )


def is_public_host(host: str) -> bool:
    """A public service host (or a subdomain of one), never a campaign's own infrastructure."""
    host = host.lower()
    if host in PUBLIC_HOSTS:
        return True
    top = tranco_top()
    parts = host.split(".")
    return any(".".join(parts[i:]) in top for i in range(len(parts) - 1))
