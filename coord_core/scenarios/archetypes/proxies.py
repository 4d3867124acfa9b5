"""The honeypot as a TCP proxy (``direct-tcpip``): one relay campaign, and many proxy checkers.

SSH clients may ask the server to open a TCP connection for them; Cowrie logs the request
(``cowrie.direct-tcpip.request``: the host and port asked for, an address or a name) and the
first bytes the client pushes through (``cowrie.direct-tcpip.data``: their Python ``repr``).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from coord_core.contracts.campaigns import Verdict
from coord_core.scenarios.clients import popular_client
from coord_core.scenarios.credentials import popular_credential
from coord_core.scenarios.networks import NetworkKind
from coord_core.scenarios.schedule import spread, stretch, within
from coord_core.scenarios.timeline import Source, bot_pace, independent_actors, new_source
from coord_core.scenarios.world import HOUR, ActorRecord, Scale, World, one_actor

_ANYWHERE = {NetworkKind.RESIDENTIAL: 0.45, NetworkKind.CLOUD: 0.35, NetworkKind.HOSTING: 0.2}

# Ports relays use for their own back ends: none of them a web or mail port.
_RELAY_PORTS = (1080, 2053, 3128, 4444, 5222, 6667, 7443, 8088, 8443, 9001, 9443, 10443, 31337, 44443)

# What proxy checkers connect to: the sites every proxy-list tool uses to see its exit address.
POPULAR_PROXY_TARGETS: tuple[tuple[str, int], ...] = (
    ("www.google.com", 443),
    ("www.google.com", 80),
    ("api.ipify.org", 80),
    ("api.ipify.org", 443),
    ("ip-api.com", 80),
    ("ipinfo.io", 443),
    ("ifconfig.me", 80),
    ("checkip.amazonaws.com", 80),
    ("httpbin.org", 80),
    ("icanhazip.com", 80),
    ("www.bing.com", 443),
    ("example.com", 80),
)
_CHECK_PATHS = {
    "www.google.com": ("/", "/generate_204", "/search?q=test"),
    "api.ipify.org": ("/", "/?format=json"),
    "ip-api.com": ("/json", "/json/?fields=query,country", "/line/?fields=query"),
    "ipinfo.io": ("/ip", "/json"),
    "ifconfig.me": ("/", "/ip", "/all.json"),
    "checkip.amazonaws.com": ("/",),
    "httpbin.org": ("/ip", "/get", "/headers"),
    "icanhazip.com": ("/",),
    "www.bing.com": ("/",),
    "example.com": ("/",),
}
_CHECK_AGENTS = (
    "Go-http-client/1.1",
    "python-requests/2.31.0",
    "python-requests/2.28.1",
    "curl/7.68.0",
    "curl/8.5.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
    "okhttp/4.9.3",
    "Java/1.8.0_151",
)


def tls_client_hello_start(rng: random.Random, host: str) -> bytes:
    """The first bytes of a TLS ClientHello for ``host``: record and handshake headers, client
    version, 32 random bytes, a random session id, then cipher suites (as much as the first
    packet Cowrie logs shows). The random fields make every hello different."""
    random_bytes = rng.getrandbits(256).to_bytes(32, "big")
    session_id = rng.getrandbits(256).to_bytes(32, "big")
    suites = bytes.fromhex(
        rng.choice(
            (
                "130113021303c02bc02fc02cc030cca9cca8c013c014009c009d002f0035",
                "c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c027006700a3",
                "130213031301c030c02cc028c024c014c00a009f006b0039",
            )
        )
    )
    name = host.encode()
    body = (
        b"\x03\x03"
        + random_bytes
        + b"\x20"
        + session_id
        + len(suites).to_bytes(2, "big")
        + suites
        + b"\x01\x00"
        + b"\x00\x00"
        + (len(name) + 5).to_bytes(2, "big")
        + (len(name) + 3).to_bytes(2, "big")
        + b"\x00"
        + len(name).to_bytes(2, "big")
        + name
    )
    length = len(body) + 180  # extensions after the server name follow in the same record
    return b"\x16\x03\x01" + (length + 4).to_bytes(2, "big") + b"\x01" + length.to_bytes(3, "big") + body


def http_check_request(rng: random.Random, host: str) -> bytes:
    """A proxy checker's HTTP request: its own path, agent and header order."""
    path = rng.choice(_CHECK_PATHS.get(host, ("/",)))
    headers = [f"Host: {host}", f"User-Agent: {rng.choice(_CHECK_AGENTS)}"]
    extra = ["Accept: */*", "Connection: close", "Accept-Encoding: gzip", "Connection: keep-alive"]
    headers += rng.sample(extra, rng.randint(0, 2))
    if rng.random() < 0.4:
        rng.shuffle(headers)
    return (f"GET {path} HTTP/1.1\r\n" + "\r\n".join(headers) + "\r\n\r\n").encode()


@one_actor(
    Verdict.COORDINATED_CAMPAIGN,
    "direct-tcpip to one uncommon host:port with identical first bytes from many networks",
)
def tunnel_relay(world: World, actor: ActorRecord, scale: Scale) -> None:
    """A relay network tunnelling through honeypots to its own back end.

    Sources on consumer lines and rented servers log in with a guessed password, type nothing,
    and ask the server to open a ``direct-tcpip`` channel to one and the same uncommon
    destination (an address at a small hoster, on an odd port), then push the same opening
    bytes through it: the relay's fixed handshake. Sources work at their own times over a few
    hours. The destination and the bytes are the tie.
    """
    rng = world.rng
    destination = world.ip_of_kind({NetworkKind.HOSTING: 1.0})
    port = rng.choice(_RELAY_PORTS)
    token = rng.getrandbits(128).to_bytes(16, "big")
    if rng.random() < 0.5:
        handshake = b"\x05\x01\x00" + b"RLY1" + token  # a SOCKS-like greeting with the relay's key
    else:
        handshake = (
            f"CONNECT {destination}:{port} HTTP/1.1\r\nHost: {destination}:{port}\r\n"
            f"X-Relay-Key: {token.hex()}\r\n\r\n"
        ).encode()
    client = popular_client(rng)
    base = bot_pace(rng)
    hours = stretch(world, min_us=3 * HOUR, max_us=10 * HOUR)
    for _ in range(scale.count(rng, 8, 25)):
        relay = new_source(world, actor, _ANYWHERE, pace=base, client=client)
        for at in within(world, hours, rng.choice((1, 1, 2))):
            attempts = rng.randint(1, 2)
            relay.session(
                at,
                credentials=[popular_credential(rng) for _ in range(attempts)],
                success_at=attempts - 1,
                forwards=[(destination, port, handshake)] * rng.choice((1, 1, 2)),
            )


@independent_actors(
    "independent: direct-tcpip to a popular check site, own request, network and time", _ANYWHERE
)
def proxy_checkers(world: World, join: Callable[[], Source], scale: Scale) -> None:
    """Unrelated proxy hunters checking whether the honeypot forwards traffic.

    Each logs in with a guessed password and tunnels to one of the handful of sites every proxy
    checker uses (Google, ipify, ip-api, ...) with its own tool's request: similar HTTP
    requests with their own path, agent and header order, or a TLS hello whose random fields
    differ every time. Own networks, clients and times: popular destinations are no tie.
    """
    rng = world.rng
    for _ in range(scale.count(rng, 8, 20)):
        checker = join()
        targets = rng.sample(POPULAR_PROXY_TARGETS, rng.choice((1, 1, 2)))
        requests = {host: http_check_request(rng, host) for host, port in targets if port != 443}
        for at in spread(world, rng.choice((1, 1, 2, 3))):
            attempts = rng.randint(1, 3)
            forwards = [
                (host, port, tls_client_hello_start(rng, host) if port == 443 else requests[host])
                for host, port in targets
            ]
            checker.session(
                at,
                credentials=[popular_credential(rng) for _ in range(attempts)],
                success_at=attempts - 1,
                forwards=forwards,
            )
