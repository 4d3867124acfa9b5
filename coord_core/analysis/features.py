"""Feature kinds and how much sharing one says about two sources being one campaign.

Kinds differ in what sharing means. A payload hash, a download URL, a non-public remote host
or an injected SSH key is specific: unrelated actors do not share it, however often it is seen
(a botnet makes its own artefact common). Tooling (client version, HASSH, kex lists), usernames
and target ports are shared by unrelated actors all the time: their weight falls with how common
they are in the window and is capped per kind, so they never link on their own. Credentials are
weighed by an overlap test (see ``credentials``), command templates by how much they say.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

MAX_VALUE_CHARS = 200


class FeatureClass(StrEnum):
    ARTEFACT = "artefact"
    BEHAVIOUR = "behaviour"
    CREDENTIAL = "credential"
    TOOLING = "tooling"
    TARGET = "target"
    INFRASTRUCTURE = "infrastructure"


@dataclass(frozen=True, slots=True)
class KindSpec:
    name: str
    feature_class: FeatureClass
    # log-likelihood weight of a shared value when rarity does not apply (artefacts)
    weight: float = 0.0
    # rarity weighting: weight = ln(match_rate / max(floor, share of sources holding it)), capped
    match_rate: float = 0.9
    floor: float = 0.01
    cap: float = 0.0
    # whether a shared value of this kind proposes a candidate pair
    proposes_pairs: bool = False

    def rarity_weight(self, share: Any) -> Any:
        """The weight of a shared value held by ``share`` of the sources (a number or an array)."""
        import numpy as np  # here, not at the top: the trend pages read feature names without NumPy

        with np.errstate(divide="ignore"):
            return np.clip(np.log(self.match_rate / np.maximum(self.floor, share)), 0.0, self.cap)


PAYLOAD = KindSpec("payload", FeatureClass.ARTEFACT, weight=30.0)
URL = KindSpec("url", FeatureClass.ARTEFACT, weight=30.0)
HOST = KindSpec("host", FeatureClass.ARTEFACT, weight=28.0)
PUBLIC_HOST = KindSpec("public_host", FeatureClass.BEHAVIOUR, match_rate=0.5, floor=0.05, cap=1.0)
# A file fetched from a public host (a released miner, a public tool) is the same file for everyone.
PUBLIC_PAYLOAD = KindSpec("public_payload", FeatureClass.BEHAVIOUR, match_rate=0.5, floor=0.05, cap=1.0)
SSH_KEY = KindSpec("ssh_key", FeatureClass.ARTEFACT, weight=30.0)
WALLET = KindSpec("wallet", FeatureClass.ARTEFACT, weight=30.0)
TEMPLATE = KindSpec("template", FeatureClass.BEHAVIOUR, proposes_pairs=True)
TCPIP = KindSpec("tcpip", FeatureClass.BEHAVIOUR, match_rate=0.6, floor=0.002, cap=4.0, proposes_pairs=True)
CREDENTIAL = KindSpec("cred", FeatureClass.CREDENTIAL, proposes_pairs=True)
COMMON_CREDENTIAL = KindSpec("cred_common", FeatureClass.CREDENTIAL)
PASSWORD_STEM = KindSpec("pw_stem", FeatureClass.CREDENTIAL, proposes_pairs=True)
USERNAME = KindSpec("user", FeatureClass.CREDENTIAL, match_rate=0.7, floor=0.02, cap=1.0)
CLIENT = KindSpec("client", FeatureClass.TOOLING, match_rate=0.9, floor=0.03, cap=2.0)
HASSH = KindSpec("hassh", FeatureClass.TOOLING, match_rate=0.9, floor=0.03, cap=2.0)
KEX = KindSpec("kex", FeatureClass.TOOLING, match_rate=0.9, floor=0.03, cap=2.0)
# How the client asks for an interactive terminal: pty size and env requests, in order. Client
# libraries fix them (80x24, LANG=...), so a common one says nothing; a toolkit's own says a little.
TERMINAL = KindSpec("terminal", FeatureClass.TOOLING, match_rate=0.9, floor=0.03, cap=2.0)
PORT = KindSpec("port", FeatureClass.TARGET, match_rate=0.9, floor=0.2, cap=0.3)
# A shared /24 counts only next to specific likeness, which proposes the pair itself.
PREFIX24 = KindSpec("net24", FeatureClass.INFRASTRUCTURE, match_rate=0.4, floor=0.0005, cap=7.0)
PREFIX16 = KindSpec("net16", FeatureClass.INFRASTRUCTURE, match_rate=0.3, floor=0.002, cap=2.0)

# Near-artefacts: values unrelated actors do not pick by chance. A random-looking secret (a
# password of high estimated entropy and no base word) and identical tunnelled bytes to a
# non-public destination. Below the exact artefacts, so those are applied first.
SECRET = KindSpec("secret", FeatureClass.ARTEFACT, weight=20.0)
TUNNEL_PAYLOAD = KindSpec("tunnel_payload", FeatureClass.ARTEFACT, weight=20.0)
# Ordered runs of uncommon credentials (three consecutive guesses): one private list walked in order.
CRED_SEQUENCE = KindSpec("cred_seq", FeatureClass.CREDENTIAL, proposes_pairs=True)
# An upper-case token a command names (``/bin/busybox ECCHI``). Random per session it says nothing;
# typed by several sources it is a build's fixed marker, and two builds' markers tell them apart.
# It never links (no weight): it only keeps two builds from being joined (see EXCLUSIVE_KINDS).
MARKER = KindSpec("marker", FeatureClass.BEHAVIOUR)

KINDS: tuple[KindSpec, ...] = (
    PAYLOAD,
    URL,
    HOST,
    PUBLIC_HOST,
    PUBLIC_PAYLOAD,
    SSH_KEY,
    WALLET,
    TEMPLATE,
    TCPIP,
    CREDENTIAL,
    COMMON_CREDENTIAL,
    PASSWORD_STEM,
    USERNAME,
    CLIENT,
    HASSH,
    KEX,
    TERMINAL,
    PORT,
    PREFIX24,
    PREFIX16,
    SECRET,
    TUNNEL_PAYLOAD,
    CRED_SEQUENCE,
    MARKER,
)
# What a toolkit fetches or plants: a source holding one is no low-and-slow guesser.
TOOLKIT_ARTEFACTS: tuple[KindSpec, ...] = (PAYLOAD, URL, HOST, SSH_KEY, WALLET)
# The kinds whose every shared value links its holders outright (a hyperedge per value).
LINKING_ARTEFACTS: tuple[KindSpec, ...] = (PAYLOAD, URL, HOST, SSH_KEY, WALLET, SECRET, TUNNEL_PAYLOAD)
KIND_INDEX: dict[str, int] = {k.name: i for i, k in enumerate(KINDS)}
TOOLING_KINDS = frozenset({CLIENT.name, HASSH.name, KEX.name, TERMINAL.name})
# One operator's own: two sources each using one the other never used are two operators (a
# marker counts only when several sources typed it: one source's is a random token).
EXCLUSIVE_KINDS: tuple[KindSpec, ...] = (HOST, WALLET, MARKER)
ARTEFACT_KINDS = frozenset(k.name for k in KINDS if k.feature_class is FeatureClass.ARTEFACT)


def feature_name(kind: KindSpec, value: str) -> str:
    """``kind:value``; long values are hashed so names stay bounded (attacker-controlled text)."""
    if len(value) > MAX_VALUE_CHARS:
        value = "sha256:" + hashlib.sha256(value.encode("utf-8", "backslashreplace")).hexdigest()[:32]
    return f"{kind.name}:{value}"


def kind_of(name: str) -> str:
    return name.split(":", 1)[0]


def value_of(name: str) -> str:
    return name.split(":", 1)[1]
