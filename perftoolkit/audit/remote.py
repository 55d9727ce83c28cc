"""Locust workers on other machines (`--master-bind HOST:PORT`): where the master and the server
listen, and the command that starts a worker with the same profile."""

from __future__ import annotations

import socket

from perftoolkit.audit.locust import LocustOptions
from perftoolkit.exceptions import ConfigurationError


def parse_bind(text: str) -> tuple[str, int]:
    """`--master-bind HOST:PORT` → (host, port); IPv6 as `[::1]:5557`."""
    host, sep, port = text.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigurationError(
            f"--master-bind {text!r} is not HOST:PORT: give the address workers will reach and a "
            "free port, e.g. --master-bind 10.0.0.5:5557 (or 0.0.0.0:5557 for every interface)."
        )
    return host, int(port)


def advertised_host(host: str) -> str:
    """The address to give workers: the bind host, or this machine's name when it binds all."""
    return socket.getfqdn() if host in ("0.0.0.0", "::", "") else host


def worker_command(options: LocustOptions) -> str:
    """The command that starts one worker on another machine: it downloads the profile from the
    master (`-f -`) and gets the host under test from it too."""
    assert options.master_bind is not None
    host, port = options.master_bind
    return (
        f"python -m locust -f - --worker --master-host {advertised_host(host)} --master-port {port}"
    )


def server_host(options: LocustOptions) -> str:
    """Where the server listens: 127.0.0.1, unless Locust workers on other machines must reach
    it (`--master-bind` on another address): then that address."""
    bind = options.master_bind
    if bind is None or bind[0] in ("127.0.0.1", "localhost", "::1"):
        return "127.0.0.1"
    return bind[0]


def reachable_url(options: LocustOptions, url: str) -> str:
    """The server's URL as remote workers reach it (this machine's name for a wildcard bind)."""
    bind = options.master_bind
    if bind is None or bind[0] not in ("0.0.0.0", "::"):
        return url
    return url.replace("127.0.0.1", advertised_host(bind[0]), 1)


def workers_wanted(options: LocustOptions) -> str:
    """What to run on the other machines, with the same profile (the master sends it)."""
    count = options.workers
    profiles = ", ".join(str(p) for p in options.locustfiles)
    return (
        f"Locust's master listens on {':'.join(map(str, options.master_bind or ()))} and "
        f"waits up to {options.worker_wait_s} s for {count} worker{'s' if count != 1 else ''}. "
        "On each other machine (with Locust installed: pip install locust), run:\n"
        f"    {worker_command(options)}\n"
        f"It downloads the profile from the master ({profiles}); a profile that imports helpers "
        "of its own needs them copied there, and `-f <path>` instead of `-f -`."
    )
