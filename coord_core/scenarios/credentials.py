"""Credential dictionaries: what honeypots see attackers try, from the most common to one-offs.

``TOP_CREDENTIALS`` are the pairs every scanner tries first (the real sample's most frequent
ones lead); ``COMMON_CREDENTIALS`` adds the long, popular head of public wordlists; and
:func:`long_tail_password` builds the many passwords that only one attacker tries. A campaign's
own dictionary (:func:`mutated_wordlist`) applies cracking-tool mutation rules to base words, so
consecutive entries look related, as in a real rule-expanded list.
"""

from __future__ import annotations

import itertools
import random
import string
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TypeVar

_T = TypeVar("_T")

Credential = tuple[str, str]

TOP_CREDENTIALS: tuple[Credential, ...] = (
    ("root", "123456"),
    ("root", "admin"),
    ("admin", "admin"),
    ("root", "root"),
    ("root", "12345"),
    ("root", "password"),
    ("ubuntu", "ubuntu"),
    ("root", "1234"),
    ("user", "user"),
    ("root", "123"),
)

_COMMON_EXTRA: tuple[Credential, ...] = (
    ("root", "adminHW"),
    ("root", "12345678"),
    ("root", "123456789"),
    ("root", "1qaz2wsx"),
    ("root", "P@ssw0rd"),
    ("root", "qwerty"),
    ("root", "toor"),
    ("root", "Aa123456"),
    ("root", "aA123456"),
    ("root", "Aa@123456"),
    ("root", "!qaz@WSX"),
    ("root", "!Q2w3e4r"),
    ("root", "abc123"),
    ("root", "1q2w3e4r"),
    ("root", "111111"),
    ("root", "000000"),
    ("root", "guest"),
    ("root", "test"),
    ("root", "pass"),
    ("root", "changeme"),
    ("root", "default"),
    ("root", "raspberry"),
    ("root", "ubnt"),
    ("root", "Password1"),
    ("root", "password123"),
    ("root", "admin123"),
    ("root", "root123"),
    ("root", "123qwe"),
    ("root", "qwe123"),
    ("root", "1234567890"),
    ("admin", "123456"),
    ("admin", "password"),
    ("admin", "admin123"),
    ("admin", "1234"),
    ("admin", "12345"),
    ("test", "test"),
    ("test", "123456"),
    ("test", "1234qwer"),
    ("guest", "guest"),
    ("oracle", "oracle"),
    ("oracle", "!QAZ@WSX"),
    ("postgres", "postgres"),
    ("mysql", "mysql"),
    ("git", "git"),
    ("hadoop", "hadoop"),
    ("nginx", "nginx"),
    ("apache", "apache123"),
    ("ftpuser", "ftpuser"),
    ("ftp", "ftp"),
    ("pi", "raspberry"),
    ("user", "111111"),
    ("user", "123456"),
    ("user1", "user1"),
    ("support", "support"),
    ("ubnt", "ubnt"),
    ("deploy", "deploy"),
    ("jenkins", "jenkins"),
    ("docker", "docker"),
    ("elastic", "elastic"),
    ("esroot", "esroot"),
    ("gitlab", "gitlab"),
    ("minecraft", "minecraft"),
    ("steam", "steam"),
    ("teamspeak", "teamspeak"),
    ("odoo", "odoo"),
    ("zabbix", "zabbix"),
    ("node", "node"),
    ("hive", "hive"),
    ("mongo", "123456"),
    ("flask", "12345678"),
    ("lighthouse", "123456"),
    ("gpadmin", "gpadmin123"),
    ("wang", "wang123"),
    ("debian", "debian"),
    ("centos", "centos"),
    ("vagrant", "vagrant"),
    ("ansible", "ansible"),
    ("tomcat", "tomcat"),
    ("www", "www"),
    ("web", "web123"),
    ("dev", "dev"),
    ("sol", "sol"),
    ("solana", "solana"),
    ("validator", "validator"),
)

COMMON_CREDENTIALS: tuple[Credential, ...] = TOP_CREDENTIALS + _COMMON_EXTRA

# Factory defaults of IoT devices, the dictionary the Mirai source code ships with.
MIRAI_CREDENTIALS: tuple[Credential, ...] = (
    ("root", "xc3511"),
    ("root", "vizxv"),
    ("root", "admin"),
    ("admin", "admin"),
    ("root", "888888"),
    ("root", "xmhdipc"),
    ("root", "default"),
    ("root", "juantech"),
    ("root", "123456"),
    ("root", "54321"),
    ("support", "support"),
    ("root", ""),
    ("admin", "password"),
    ("root", "root"),
    ("root", "12345"),
    ("user", "user"),
    ("admin", ""),
    ("root", "pass"),
    ("admin", "admin1234"),
    ("root", "1111"),
    ("admin", "smcadmin"),
    ("admin", "1111"),
    ("root", "666666"),
    ("root", "password"),
    ("root", "1234"),
    ("root", "klv123"),
    ("Administrator", "admin"),
    ("service", "service"),
    ("supervisor", "supervisor"),
    ("guest", "guest"),
    ("guest", "12345"),
    ("admin1", "password"),
    ("administrator", "1234"),
    ("666666", "666666"),
    ("888888", "888888"),
    ("ubnt", "ubnt"),
    ("root", "klv1234"),
    ("root", "Zte521"),
    ("root", "hi3518"),
    ("root", "jvbzd"),
    ("root", "anko"),
    ("root", "zlxx."),
    ("root", "7ujMko0vizxv"),
    ("root", "7ujMko0admin"),
    ("root", "system"),
    ("root", "ikwb"),
    ("root", "dreambox"),
    ("root", "user"),
    ("root", "realtek"),
    ("root", "00000000"),
    ("admin", "1111111"),
    ("admin", "1234"),
    ("admin", "12345"),
    ("admin", "54321"),
    ("admin", "123456"),
    ("admin", "7ujMko0admin"),
    ("admin", "pass"),
    ("admin", "meinsm"),
    ("tech", "tech"),
)

# Crypto-validator accounts, a 2025 trend in the real sample (solana/sol/validator/solv).
SOLANA_CREDENTIALS: tuple[Credential, ...] = (
    ("solana", "solana"),
    ("solana", "solana123"),
    ("solana", "solana@123"),
    ("solana", "sol@123"),
    ("sol", "sol"),
    ("sol", "123"),
    ("sol", "321"),
    ("sol", "sol123"),
    ("sol", "sol321"),
    ("solv", "solv"),
    ("solv", "123456"),
    ("validator", "validator"),
    ("validator", "validator123"),
    ("solana", "Solana2025!"),
)

SERVICE_USERNAMES: tuple[str, ...] = (
    "root",
    "admin",
    "ubuntu",
    "user",
    "test",
    "oracle",
    "postgres",
    "git",
    "hadoop",
    "nginx",
    "ftpuser",
    "deploy",
    "jenkins",
    "docker",
    "elastic",
    "gitlab",
    "minecraft",
    "steam",
    "odoo",
    "zabbix",
    "node",
    "debian",
    "centos",
    "vagrant",
    "ansible",
    "tomcat",
    "dev",
    "backup",
    "support",
    "guest",
    "pi",
    "mysql",
    "redis",
    "kafka",
    "spark",
    "www-data",
    "sysadmin",
    "administrator",
    "operator",
    "sftp",
)

_BASE_WORDS: tuple[str, ...] = (
    "password",
    "welcome",
    "qwerty",
    "admin",
    "server",
    "master",
    "dragon",
    "monkey",
    "shadow",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "letmein",
    "trustno1",
    "superman",
    "batman",
    "michael",
    "charlie",
    "jordan",
    "hunter",
    "ranger",
    "buster",
    "thomas",
    "robert",
    "soccer",
    "hockey",
    "killer",
    "george",
    "andrew",
    "summer",
    "winter",
    "spring",
    "autumn",
    "cloud",
    "linux",
    "ubuntu",
    "debian",
    "centos",
    "oracle",
    "mysql",
    "redis",
    "backup",
    "system",
    "office",
    "company",
    "support",
    "service",
    "network",
    "internet",
    "computer",
    "secret",
    "access",
    "freedom",
    "matrix",
    "falcon",
    "phoenix",
    "cheese",
    "coffee",
    "banana",
    "orange",
    "purple",
    "silver",
    "golden",
    "diamond",
    "starwars",
    "pokemon",
    "nirvana",
    "metallica",
    "zxcvbnm",
    "asdfgh",
    "abcdef",
    "china",
    "beijing",
    "shanghai",
    "moscow",
    "berlin",
    "london",
    "paris",
    "tokyo",
    "seoul",
    "mumbai",
    "jakarta",
    "saopaulo",
    "huawei",
    "tplink",
    "hikvision",
    "dahua",
    "mikrotik",
    "cisco",
    "juniper",
    "zyxel",
    "netgear",
    "dlink",
    "gitlab",
    "jenkins",
    "docker",
    "kubernetes",
    "ansible",
    "postgres",
)

# Mutation rules as cracking tools apply them (hashcat/john "best64"-style), in order.
_RULES: tuple[str, ...] = (
    "{w}",
    "{w}1",
    "{w}123",
    "{w}@123",
    "{W}!",
    "{w}2024",
    "{W}2025",
    "{w}#1",
    "{W}123!",
    "{w}1234",
    "{l}",
    "{W}@2024",
    "{w}!@#",
    "{w}01",
    "{r}",
)
_LEET = str.maketrans({"a": "@", "o": "0", "e": "3", "i": "1", "s": "$"})


def _apply_rule(rule: str, word: str) -> str:
    return rule.format(w=word, W=word.capitalize(), l=word.translate(_LEET), r=word[::-1])


@cache
def _long_tail_pool() -> tuple[str, ...]:
    """Every base word under every rule: thousands of plausible, individually rare passwords."""
    return tuple(_apply_rule(rule, word) for word in _BASE_WORDS for rule in _RULES)


def long_tail_password(rng: random.Random) -> str:
    pool = _long_tail_pool()
    if rng.random() < 0.85:
        return pool[rng.randrange(len(pool))]
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(6, 14)))


def mutated_wordlist(rng: random.Random, length: int, *, avoid: Sequence[str] = ()) -> list[str]:
    """An ordered, rule-expanded dictionary of ``length`` distinct passwords of rare base words.

    Base words are drawn fresh and case-mangled per campaign, so two campaigns' lists rarely
    share an entry, and the popular passwords in ``avoid`` never appear.
    """
    blocked = set(avoid) | {password for _, password in COMMON_CREDENTIALS}
    rules = list(_RULES)
    rng.shuffle(rules)
    rules = rules[: rng.randint(6, len(rules))]
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < length:
        base = rng.choice(_BASE_WORDS)
        if rng.random() < 0.6:
            base += str(rng.randint(0, 99))
        if rng.random() < 0.3:
            base = rng.choice(_BASE_WORDS)[: rng.randint(3, 5)] + base
        for rule in rules:
            candidate = _apply_rule(rule, base)
            if candidate not in blocked and candidate not in seen:
                seen.add(candidate)
                words.append(candidate)
                if len(words) == length:
                    break
    return words


_ZIPF_CUMULATIVE = tuple(itertools.accumulate(1.0 / rank for rank in range(1, len(COMMON_CREDENTIALS) + 1)))


def handed_out(entries: Sequence[_T], counts: Iterable[int]) -> list[list[_T]]:
    """Consecutive slices of one ordered list, ``count`` entries for each count in turn: how a
    distributed tool hands its sources disjoint parts of one dictionary."""
    starts = itertools.accumulate(counts, initial=0)
    return [list(entries[start:end]) for start, end in itertools.pairwise(starts)]


def popular_credential(rng: random.Random) -> Credential:
    """A pair from the common head, Zipf-weighted: the first pairs are tried by everyone."""
    return rng.choices(COMMON_CREDENTIALS, cum_weights=_ZIPF_CUMULATIVE)[0]


def random_password(rng: random.Random, length: int = 12) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(rng.choice(alphabet) for _ in range(length))
