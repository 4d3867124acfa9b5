"""SSH client profiles as Cowrie sees them: version banner and key-exchange offer (HASSH).

The first profiles are copied from the real T-Pot sample (``include/sample_data``), where one Go
scanner offer accounts for most sessions; the others are the algorithm offers of widely used
clients and libraries. HASSH is computed exactly as Cowrie does: the MD5 of
``kex;ciphers;macs;compression``.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from coord_core.scenarios.weighted import WeightedTable

# Algorithm families that many clients offer together, in the order they list them; a profile
# spells out only where it departs from them (reversed, interleaved, extended).
_ECDSA = ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")
_ECDSA_CERTS = (
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
)
_ECDH = ("ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521")
_CURVE25519 = ("curve25519-sha256", "curve25519-sha256@libssh.org")
_DH_GEX_16_18 = (
    "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
)
_AES_CTR = ("aes128-ctr", "aes192-ctr", "aes256-ctr")
_AES_CBC = ("aes128-cbc", "aes192-cbc", "aes256-cbc")
_AES_GCM = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")

_GO_KEYS = (
    "rsa-sha2-256-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
    "ssh-rsa-cert-v01@openssh.com",
    "ssh-dss-cert-v01@openssh.com",
    *_ECDSA_CERTS,
    "ssh-ed25519-cert-v01@openssh.com",
    *_ECDSA,
    "rsa-sha2-256",
    "rsa-sha2-512",
    "ssh-rsa",
    "ssh-dss",
    "ssh-ed25519",
)
_GO_KEX = (*_CURVE25519, *_ECDH, "diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1", "ext-info-c")
_GO_ENC = (*_AES_GCM, "chacha20-poly1305@openssh.com", *_AES_CTR)
_GO_MAC = (
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha2-256",
    "hmac-sha2-512",
    "hmac-sha1",
    "hmac-sha1-96",
)
_OLD_GO_KEX = (
    "curve25519-sha256@libssh.org",
    *_ECDH,
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group1-sha1",
)
_OLD_GO_KEYS = (*_GO_KEYS[2:11], "ssh-rsa", "ssh-dss", "ssh-ed25519")  # before rsa-sha2
_OLD_GO_ENC = (*_AES_CTR, "aes128-gcm@openssh.com", "arcfour256", "arcfour128")
_CLASSIC_MAC = (
    "hmac-sha2-256",
    "hmac-sha2-512",
    "hmac-sha1",
    "hmac-sha1-96",
    "hmac-md5",
    "hmac-md5-96",
    "hmac-ripemd160",
)
_LIBSSH2_MAC = (
    "hmac-sha2-256",
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha1",
    "hmac-sha1-etm@openssh.com",
    "hmac-sha1-96",
    "hmac-md5",
    "hmac-md5-96",
    "hmac-ripemd160",
    "hmac-ripemd160@openssh.com",
)
_LIBSSH2_OLD_ENC = (
    "aes256-cbc",
    "rijndael-cbc@lysator.liu.se",
    "aes192-cbc",
    "aes128-cbc",
    "blowfish-cbc",
    "arcfour128",
    "arcfour",
    "cast128-cbc",
    "3des-cbc",
)
_OPENSSH_MAC = (
    "umac-64-etm@openssh.com",
    "umac-128-etm@openssh.com",
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha1-etm@openssh.com",
    "umac-64@openssh.com",
    "umac-128@openssh.com",
    "hmac-sha2-256",
    "hmac-sha2-512",
    "hmac-sha1",
)
_OPENSSH_KEYS = (
    "ssh-ed25519-cert-v01@openssh.com",
    *_ECDSA_CERTS,
    "rsa-sha2-512-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
    "ssh-ed25519",
    *_ECDSA,
    "rsa-sha2-512",
    "rsa-sha2-256",
)


@dataclass(frozen=True, slots=True)
class ClientProfile:
    """What one SSH client implementation announces; identical offers give identical HASSH."""

    version: str
    kex: tuple[str, ...]
    keys: tuple[str, ...]
    enc: tuple[str, ...]
    mac: tuple[str, ...]
    comp: tuple[str, ...] = ("none",)
    hassh_algorithms: str = field(init=False)
    hassh: str = field(init=False)

    def __post_init__(self) -> None:
        algorithms = ";".join(",".join(part) for part in (self.kex, self.enc, self.mac, self.comp))
        object.__setattr__(self, "hassh_algorithms", algorithms)
        object.__setattr__(self, "hassh", hashlib.md5(algorithms.encode()).hexdigest())  # noqa: S324 - HASSH is MD5


GO_COMMON = ClientProfile(
    "SSH-2.0-Go", (*_GO_KEX, "kex-strict-c-v00@openssh.com"), _GO_KEYS, _GO_ENC, _GO_MAC
)
GO_PLAIN = ClientProfile("SSH-2.0-Go", _GO_KEX, _GO_KEYS, _GO_ENC, _GO_MAC)
GO_MLKEM = ClientProfile(
    "SSH-2.0-Go",
    ("mlkem768x25519-sha256", *_GO_KEX, "kex-strict-c-v00@openssh.com"),
    _GO_KEYS,
    _GO_ENC,
    _GO_MAC,
)
GO_TRIMMED = ClientProfile(
    "SSH-2.0-Go",
    _GO_KEX,
    (*_GO_KEYS[1::-1], *_GO_KEYS[2:]),
    ("aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com", *_AES_CTR),
    ("hmac-sha2-256-etm@openssh.com", "hmac-sha2-256", "hmac-sha1", "hmac-sha1-96"),
)
GO_OLD_GEX = ClientProfile(
    "SSH-2.0-Go",
    (*_OLD_GO_KEX, *_OLD_GO_KEX, "diffie-hellman-group-exchange-sha256"),
    _OLD_GO_KEYS * 2,
    (*_OLD_GO_ENC, *_OLD_GO_ENC, "aes128-cbc", "3des-cbc"),
    ("hmac-sha2-256", "hmac-sha1", "hmac-sha1-96"),
)
GO_OLD = ClientProfile(
    "SSH-2.0-Go",
    _OLD_GO_KEX * 2,
    _OLD_GO_KEYS * 2,
    _OLD_GO_ENC * 2,
    ("hmac-sha2-256", "hmac-sha1", "hmac-sha1-96"),
)
ZGRAB = ClientProfile(
    "SSH-2.0-ZGrab ZGrab SSH Survey",
    (
        "diffie-hellman-group-exchange-sha256",
        "diffie-hellman-group-exchange-sha1",
        "diffie-hellman-group14-sha1",
        "diffie-hellman-group1-sha1",
    ),
    (
        *_ECDSA_CERTS,
        *_ECDSA,
        "ssh-ed25519-cert-v01@openssh.com",
        "ssh-rsa-cert-v01@openssh.com",
        "ssh-dss-cert-v01@openssh.com",
        "ssh-rsa-cert-v00@openssh.com",
        "ssh-dss-cert-v00@openssh.com",
        "ssh-ed25519",
        "ssh-rsa",
        "ssh-dss",
    ),
    (
        *_AES_CTR,
        "arcfour256",
        "arcfour128",
        *_AES_GCM,
        "chacha20-poly1305@openssh.com",
        "aes128-cbc",
        "3des-cbc",
        "blowfish-cbc",
        "cast128-cbc",
        "aes192-cbc",
        "aes256-cbc",
        "arcfour",
        "rijndael-cbc@lysator.liu.se",
    ),
    (
        "hmac-md5-etm@openssh.com",
        "hmac-sha1-etm@openssh.com",
        "umac-64-etm@openssh.com",
        "umac-128-etm@openssh.com",
        "hmac-sha2-256-etm@openssh.com",
        "hmac-sha2-512-etm@openssh.com",
        "hmac-ripemd160-etm@openssh.com",
        "hmac-sha1-96-etm@openssh.com",
        "hmac-md5-96-etm@openssh.com",
        "hmac-md5",
        "hmac-sha1",
        "umac-64@openssh.com",
        "umac-128@openssh.com",
        "hmac-sha2-256",
        "hmac-sha2-512",
        "hmac-ripemd160",
        "hmac-ripemd160@openssh.com",
        "hmac-sha1-96",
        "hmac-md5-96",
    ),
    ("none", "zlib@openssh.com", "zlib"),
)
PUTTY = ClientProfile(
    "SSH-2.0-PUTTY",
    (
        *_ECDH,
        *_CURVE25519,
        "diffie-hellman-group-exchange-sha256",
        "diffie-hellman-group-exchange-sha1",
        "diffie-hellman-group14-sha1",
        "diffie-hellman-group1-sha1",
    ),
    (*_ECDSA, "ssh-ed25519", "ssh-rsa", "ssh-dss"),
    (*_AES_CTR, *_LIBSSH2_OLD_ENC),
    (*_CLASSIC_MAC, "hmac-ripemd160@openssh.com"),
)
_LIBSSH2_KEX = (
    *_CURVE25519,
    *_ECDH,
    *_DH_GEX_16_18,
    "diffie-hellman-group14-sha256",
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group1-sha1",
    "diffie-hellman-group-exchange-sha1",
    "ext-info-c",
)
LIBSSH2_1_11_0 = ClientProfile(
    "SSH-2.0-libssh2_1.11.0",
    (*_LIBSSH2_KEX, "kex-strict-c-v00@openssh.com"),
    (
        *_ECDSA,
        *_ECDSA_CERTS,
        "ssh-ed25519",
        "ssh-ed25519-cert-v01@openssh.com",
        "rsa-sha2-512",
        "rsa-sha2-256",
        "ssh-rsa",
        "ssh-rsa-cert-v01@openssh.com",
        "ssh-dss",
    ),
    ("aes256-gcm@openssh.com", "aes128-gcm@openssh.com", *_AES_CTR[::-1], *_LIBSSH2_OLD_ENC),
    _LIBSSH2_MAC,
)
LIBSSH2_1_11_1 = ClientProfile(
    "SSH-2.0-libssh2_1.11.1",
    (*_LIBSSH2_KEX[2:], "kex-strict-c-v00@openssh.com"),
    (
        *_ECDSA,
        *_ECDSA_CERTS,
        "rsa-sha2-512",
        "rsa-sha2-256",
        "rsa-sha2-512-cert-v01@openssh.com",
        "rsa-sha2-256-cert-v01@openssh.com",
        "ssh-rsa",
        "ssh-rsa-cert-v01@openssh.com",
    ),
    ("chacha20-poly1305@openssh.com", *_AES_CTR[::-1], *_LIBSSH2_OLD_ENC),
    _LIBSSH2_MAC,
)
LIBSSH2_1_9_0 = ClientProfile(
    "SSH-2.0-libssh2_1.9.0",
    _LIBSSH2_KEX[2:-1],
    (*_ECDSA, "ssh-rsa", "ssh-dss"),
    (*_AES_CTR, *_LIBSSH2_OLD_ENC),
    _CLASSIC_MAC,
)
OPENSSH_7_4 = ClientProfile(
    "SSH-2.0-OpenSSH_7.4",
    (
        *_CURVE25519,
        *_ECDH,
        *_DH_GEX_16_18,
        "diffie-hellman-group-exchange-sha1",
        "diffie-hellman-group14-sha256",
        "diffie-hellman-group14-sha1",
        "diffie-hellman-group1-sha1",
        "ext-info-c",
    ),
    _OPENSSH_KEYS,
    ("chacha20-poly1305@openssh.com", *_AES_CTR, *_AES_GCM, *_AES_CBC),
    _OPENSSH_MAC,
    ("none", "zlib@openssh.com", "zlib"),
)
OPENSSH_8_9 = ClientProfile(
    "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10",
    (
        *_CURVE25519,
        *_ECDH,
        "sntrup761x25519-sha512@openssh.com",
        *_DH_GEX_16_18,
        "diffie-hellman-group14-sha256",
        "ext-info-c",
    ),
    _OPENSSH_KEYS,
    ("chacha20-poly1305@openssh.com", *_AES_CTR, *_AES_GCM),
    _OPENSSH_MAC,
    ("none", "zlib@openssh.com", "zlib"),
)
OPENSSH_9_6 = ClientProfile(
    "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5",
    (
        "sntrup761x25519-sha512@openssh.com",
        *_CURVE25519,
        *_ECDH,
        *_DH_GEX_16_18,
        "diffie-hellman-group14-sha256",
        "ext-info-c",
        "kex-strict-c-v00@openssh.com",
    ),
    _OPENSSH_KEYS,
    OPENSSH_8_9.enc,
    _OPENSSH_MAC,
    ("none", "zlib@openssh.com", "zlib"),
)
_PARAMIKO_KEX = (
    "curve25519-sha256@libssh.org",
    *_ECDH,
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group14-sha256",
    "diffie-hellman-group-exchange-sha1",
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group1-sha1",
)
_PARAMIKO_MAC = (
    "hmac-sha2-256",
    "hmac-sha2-512",
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha1",
    "hmac-md5",
    "hmac-sha1-96",
    "hmac-md5-96",
)
PARAMIKO_2 = ClientProfile(
    "SSH-2.0-paramiko_2.12.0",
    _PARAMIKO_KEX,
    ("ssh-ed25519", *_ECDSA, "ssh-rsa", "ssh-dss"),
    (*_AES_CTR, *_AES_CBC, "3des-cbc"),
    _PARAMIKO_MAC,
)
PARAMIKO_3 = ClientProfile(
    "SSH-2.0-paramiko_3.4.0",
    (*_PARAMIKO_KEX[:8], "ext-info-c"),
    ("ssh-ed25519", *_ECDSA, "rsa-sha2-512"),
    (*_AES_CTR, *_AES_CBC),
    _PARAMIKO_MAC[:4],
)
LIBSSH_0_9 = ClientProfile(
    "SSH-2.0-libssh_0.9.6",
    (
        *_CURVE25519,
        *_ECDH,
        "diffie-hellman-group18-sha512",
        "diffie-hellman-group16-sha512",
        "diffie-hellman-group-exchange-sha256",
        "diffie-hellman-group14-sha256",
        "diffie-hellman-group14-sha1",
        "diffie-hellman-group-exchange-sha1",
        "ext-info-c",
    ),
    ("ssh-ed25519", *_ECDSA[::-1], "rsa-sha2-512"),
    ("chacha20-poly1305@openssh.com", *_AES_GCM[::-1], "aes256-ctr"),
    ("hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha1-etm@openssh.com"),
    ("none", "zlib@openssh.com", "zlib"),
)
ASYNCSSH = ClientProfile(
    "SSH-2.0-AsyncSSH_2.14.2",
    (*_CURVE25519, "curve448-sha512", *_ECDH[::-1], "diffie-hellman-group14-sha256", "ext-info-c"),
    ("ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa"),
    ("chacha20-poly1305@openssh.com", *_AES_GCM[::-1], "aes256-ctr"),
    ("umac-64-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha2-256-etm@openssh.com"),
    ("none", "zlib@openssh.com"),
)
DROPBEAR = ClientProfile(
    "SSH-2.0-dropbear_2022.83",
    (
        *_CURVE25519,
        *_ECDH[::-1],
        "diffie-hellman-group14-sha256",
        "diffie-hellman-group14-sha1",
        "kexguess2@matt.ucc.asn.au",
    ),
    ("ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-256", "ssh-rsa"),
    ("aes128-ctr", "aes256-ctr", "chacha20-poly1305@openssh.com"),
    ("hmac-sha1", "hmac-sha2-256"),
)
JSCH = ClientProfile(
    "SSH-2.0-JSCH-0.1.54",
    (*_ECDH, "diffie-hellman-group14-sha1"),
    ("ssh-rsa", "ssh-dss", *_ECDSA),
    ("aes128-ctr", "aes128-cbc", "3des-ctr", "3des-cbc", "blowfish-cbc", "aes192-ctr", "aes256-ctr"),
    ("hmac-md5", "hmac-sha1", "hmac-sha2-256", "hmac-sha1-96", "hmac-md5-96"),
)

# How often each client shows up among unrelated attackers: the Go offers dominate, as in the
# real sample (333 of 346 version strings were "SSH-2.0-Go").
POPULAR_CLIENTS: tuple[tuple[ClientProfile, float], ...] = (
    (GO_COMMON, 0.56),
    (GO_PLAIN, 0.09),
    (GO_MLKEM, 0.04),
    (GO_TRIMMED, 0.015),
    (GO_OLD_GEX, 0.01),
    (GO_OLD, 0.01),
    (LIBSSH2_1_11_0, 0.03),
    (LIBSSH2_1_11_1, 0.02),
    (LIBSSH2_1_9_0, 0.02),
    (PUTTY, 0.025),
    (OPENSSH_7_4, 0.02),
    (OPENSSH_8_9, 0.025),
    (OPENSSH_9_6, 0.015),
    (PARAMIKO_2, 0.025),
    (PARAMIKO_3, 0.01),
    (LIBSSH_0_9, 0.015),
    (ASYNCSSH, 0.005),
    (DROPBEAR, 0.01),
    (JSCH, 0.005),
)
_POPULAR = WeightedTable(POPULAR_CLIENTS)

# Version strings of custom or outdated builds, rare in any one window.
_RARE_VERSIONS = (
    "SSH-2.0-libssh2_1.10.0",
    "SSH-2.0-libssh2_1.8.0",
    "SSH-2.0-libssh_0.10.6",
    "SSH-2.0-libssh_0.8.9",
    "SSH-2.0-OpenSSH_6.6.1p1 Ubuntu-2ubuntu2.13",
    "SSH-2.0-OpenSSH_7.9p1 Raspbian-10+deb10u2",
    "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.11",
    "SSH-2.0-OpenSSH_for_Windows_8.1",
    "SSH-2.0-paramiko_2.7.2",
    "SSH-2.0-paramiko_3.1.0",
    "SSH-2.0-AsyncSSH_2.13.1",
    "SSH-2.0-Renci.SshNet.SshClient.0.0.1",
    "SSH-2.0-russh_0.40.2",
    "SSH-2.0-Go",
    "SSH-2.0-Go",
    "SSH-2.0-dropbear_2019.78",
    "SSH-2.0-PuTTY_Release_0.80",
    "SSH-2.0-WinSCP_release_6.1.2",
)

# What a protocol-confused client sends instead of an SSH banner (seen in the real sample).
NON_SSH_BANNERS = ("GET / HTTP/1.1", "", "\x16\x03\x01\x00{\x01\x00\x00w\x03\x03")


@dataclass(frozen=True)
class TerminalRequest:
    """What an SSH client asks for before an interactive shell: a pty size and env variables."""

    width: int
    height: int
    env: tuple[tuple[str, str], ...] = ()


# Library defaults for an interactive shell, by banner family: OpenSSH forwards the locale
# (Debian's SendEnv LANG LC_*), Go programs pass their own size to RequestPty, the others 80x24.
_TERMINALS: tuple[tuple[str, TerminalRequest], ...] = (
    ("ssh-2.0-openssh", TerminalRequest(80, 24, (("LANG", "en_US.UTF-8"),))),
    ("ssh-2.0-go", TerminalRequest(80, 40)),
    ("ssh-2.0-paramiko", TerminalRequest(80, 24)),
    ("ssh-2.0-libssh", TerminalRequest(80, 24)),
    ("ssh-2.0-putty", TerminalRequest(80, 24)),
    ("ssh-2.0-jsch", TerminalRequest(80, 24)),
)


def terminal_request(client: ClientProfile) -> TerminalRequest | None:
    """The terminal a client of this family asks for (``None``: it opens the shell without one)."""
    version = client.version.lower()
    return next((request for prefix, request in _TERMINALS if version.startswith(prefix)), None)


def popular_client(rng: random.Random) -> ClientProfile:
    return _POPULAR.draw(rng)


def rare_client(rng: random.Random) -> ClientProfile:
    """A custom build: an unusual banner and a perturbed algorithm offer, hence its own HASSH."""
    base = rng.choice(_POPULAR.items)
    kex = list(base.kex)
    enc = list(base.enc)
    mac = list(base.mac)
    for algorithms in (kex, enc, mac):
        if len(algorithms) > 3 and rng.random() < 0.7:
            del algorithms[rng.randrange(len(algorithms))]
        if len(algorithms) > 2:
            i = rng.randrange(len(algorithms) - 1)
            algorithms[i], algorithms[i + 1] = algorithms[i + 1], algorithms[i]
    return ClientProfile(rng.choice(_RARE_VERSIONS), tuple(kex), base.keys, tuple(enc), tuple(mac), base.comp)
