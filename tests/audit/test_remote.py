"""--master-bind: where the master and the server listen, and the worker command it prints."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from perftoolkit.audit.locust import LocustOptions
from perftoolkit.audit.remote import (
    parse_bind,
    reachable_url,
    server_host,
    worker_command,
    workers_wanted,
)
from perftoolkit.exceptions import ConfigurationError


def options(bind: tuple[str, int] | None, workers: int = 2) -> LocustOptions:
    return LocustOptions(
        locustfiles=(Path("/srv/loadtests/api.py"),), workers=workers, master_bind=bind
    )


def test_parse_bind_reads_host_and_port() -> None:
    assert parse_bind("10.0.0.5:5557") == ("10.0.0.5", 5557)
    assert parse_bind("[::1]:5557") == ("::1", 5557)


@pytest.mark.parametrize("text", ["5557", "host:", ":5557", "host:99999", "host:port"])
def test_parse_bind_refuses_what_is_not_host_and_port(text: str) -> None:
    with pytest.raises(ConfigurationError, match=r"is not HOST:PORT"):
        parse_bind(text)


def test_the_server_listens_where_remote_workers_can_reach_it() -> None:
    assert server_host(options(None)) == "127.0.0.1"
    assert server_host(options(("127.0.0.1", 5557))) == "127.0.0.1"
    assert server_host(options(("10.0.0.5", 5557))) == "10.0.0.5"
    url = "http://127.0.0.1:8000"
    assert reachable_url(options(("10.0.0.5", 5557)), "http://10.0.0.5:8000") == (
        "http://10.0.0.5:8000"
    )
    assert reachable_url(options(("0.0.0.0", 5557)), url) == f"http://{socket.getfqdn()}:8000"


def test_worker_command_and_what_the_audit_says() -> None:
    chosen = options(("10.0.0.5", 5557))

    assert worker_command(chosen) == (
        "python -m locust -f - --worker --master-host 10.0.0.5 --master-port 5557"
    )
    assert workers_wanted(chosen).splitlines() == [
        "Locust's master listens on 10.0.0.5:5557 and waits up to 300 s for 2 workers. On each "
        "other machine (with Locust installed: pip install locust), run:",
        "    python -m locust -f - --worker --master-host 10.0.0.5 --master-port 5557",
        "It downloads the profile from the master (/srv/loadtests/api.py); a profile that imports "
        "helpers of its own needs them copied there, and `-f <path>` instead of `-f -`.",
    ]
