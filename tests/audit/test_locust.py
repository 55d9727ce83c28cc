from __future__ import annotations

import sys
from pathlib import Path

import pytest

from perftoolkit.audit.locust import (
    LocustOptions,
    LocustRun,
    available_profiles,
    find_locustfile,
    locust_argv,
    locust_environment,
    parse_duration,
    profile_dirs,
    write_config,
)
from perftoolkit.exceptions import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "seconds"), [("30", 30), ("45s", 45), ("2m", 120), ("1m30s", 90), ("1h", 3600)]
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "0", "1.5m", ""])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ConfigurationError, match="--run-time"):
        parse_duration(text)


def test_available_profiles_are_the_sample_ones() -> None:
    assert available_profiles([ROOT / "loadtests"]) == [
        "campaigns",
        "lms_instructors",
        "lms_students",
        "mixed",
        "projects",
        "smoke",
    ]


def test_find_locustfile_by_name_and_by_path(tmp_path: Path) -> None:
    dirs = profile_dirs(tmp_path, ROOT / "sample_project")

    assert find_locustfile("smoke", dirs) == ROOT / "loadtests" / "smoke.py"
    assert find_locustfile(str(ROOT / "loadtests" / "mixed.py"), dirs) == (
        ROOT / "loadtests" / "mixed.py"
    )


def test_find_locustfile_missing_names_the_paths_and_the_profiles(tmp_path: Path) -> None:
    dirs = profile_dirs(tmp_path, ROOT / "sample_project")

    with pytest.raises(ConfigurationError) as info:
        find_locustfile("checkout", dirs)

    assert str(info.value) == (
        f"--profile checkout: no locustfile checkout.py in {tmp_path / 'loadtests'}, "
        f"{ROOT / 'sample_project' / 'loadtests'}, {ROOT / 'loadtests'}. Profiles available: "
        "campaigns, lms_instructors, lms_students, mixed, projects, smoke. Give a profile name "
        "from that list or the path of a locustfile."
    )


def test_find_locustfile_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        find_locustfile("profiles/gone.py", [tmp_path])

    assert str(info.value) == (
        f"--profile profiles/gone.py: {Path('profiles/gone.py').resolve()} does not exist."
    )


def test_locust_argv_local_master_and_worker(tmp_path: Path) -> None:
    options = LocustOptions(locustfiles=(Path("/p/a.py"), Path("/p/b.py")), users=8, workers=2)
    head = [sys.executable, "-m", "locust", "-f", "/p/a.py,/p/b.py", "--config"]
    config = str(tmp_path / "locust.conf")

    local = locust_argv(options, "http://127.0.0.1:8000", tmp_path)
    master = locust_argv(options, "http://h", tmp_path, role="master", master_port=5599)
    worker = locust_argv(options, "http://h", tmp_path, role="worker", master_port=5599)

    assert local[:7] == [*head, config]
    assert local[7:] == [
        "--headless",
        "--host",
        "http://127.0.0.1:8000",
        "--users",
        "8",
        "--spawn-rate",
        "5",
        "--run-time",
        "30s",
        "--stop-timeout",
        "5",
        "--exit-code-on-error",
        "0",
        "--json-file",
        str(tmp_path / "locust"),
        "--csv",
        str(tmp_path / "locust"),
        "--csv-full-history",
    ]
    assert master[-9:] == [
        "--master",
        "--master-bind-host",
        "127.0.0.1",
        "--master-bind-port",
        "5599",
        "--expect-workers",
        "2",
        "--expect-workers-max-wait",
        "30",
    ]
    assert worker[7:] == [
        "--worker",
        "--master-host",
        "127.0.0.1",
        "--master-port",
        "5599",
        "--host",
        "http://h",
    ]


def test_write_config_sets_every_key_a_stray_config_could(tmp_path: Path) -> None:
    options = LocustOptions(locustfiles=(), users=3, spawn_rate=1.5, run_time_s=12)

    text = write_config(tmp_path / "locust.conf", options, "http://h").read_text()

    assert text.splitlines()[1:] == [
        "headless = true",
        "host = http://h",
        "users = 3",
        "spawn-rate = 1.5",
        "run-time = 12s",
        "stop-timeout = 5",
        "exit-code-on-error = 0",
        "reset-stats = false",
        "loglevel = INFO",
    ]


def test_locust_environment_drops_locust_variables() -> None:
    env = locust_environment({"PATH": "/bin", "LOCUST_USERS": "500", "LOCUST_HOST": "http://x"})

    assert env == {"PATH": "/bin", "PYTHONUNBUFFERED": "1"}


def test_stats_from_an_unreadable_csv_is_none_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    csv_path = tmp_path / "locust_stats.csv"
    csv_path.write_text("Type,Name,Request Count\nGET,/items/,many\n")
    run = LocustRun(LocustOptions(locustfiles=()), "http://127.0.0.1:1", tmp_path)

    with caplog.at_level("WARNING", logger="perftoolkit"):
        assert run.stats(lambda name: name) is None

    (record,) = caplog.records
    assert record.getMessage().startswith(
        f"perftoolkit: {csv_path} is unreadable (Locust stats CSV row"
    )
    assert record.getMessage().endswith("); no latency from Locust")


def test_locust_argv_master_bound_for_remote_workers(tmp_path: Path) -> None:
    options = LocustOptions(
        locustfiles=(Path("/p/a.py"),), workers=3, master_bind=("10.0.0.5", 5557)
    )

    master = locust_argv(options, "http://10.0.0.5:8000", tmp_path, role="master", master_port=5557)

    assert master[-9:] == [
        "--master",
        "--master-bind-host",
        "10.0.0.5",
        "--master-bind-port",
        "5557",
        "--expect-workers",
        "3",
        "--expect-workers-max-wait",
        "300",
    ]
