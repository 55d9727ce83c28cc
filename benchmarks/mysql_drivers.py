"""mysqlclient (C, libmariadb) against PyMySQL (pure Python) on the MariaDB the tests use.

Run with a Python that has both drivers (`pip install mysqlclient PyMySQL`; mysqlclient builds
against Debian's libmariadb-dev and pkg-config):

    python benchmarks/mysql_drivers.py            # 127.0.0.1:3306, root, database test

Each driver runs the same statements on its own connection: a primary-key lookup (what an N+1
repeats) and a 100-row read; the best of 5 rounds is reported per statement.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

HOST = os.environ.get("MARIADB_HOST", "127.0.0.1")
ROUNDS, LOOKUPS, READS = 5, 2000, 200


def connect_mysqlclient() -> Any:
    import MySQLdb

    return MySQLdb.connect(host=HOST, user="root", password="", database="test")


def connect_pymysql() -> Any:
    import pymysql

    return pymysql.connect(host=HOST, user="root", password="", database="test")


def best(action: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(repeat):
            action()
        times.append((time.perf_counter() - start) / repeat)
    return min(times) * 1e6


def main() -> None:
    setup = connect_pymysql()
    with setup.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_drivers")
        cursor.execute("CREATE TABLE bench_drivers (id INT PRIMARY KEY, name VARCHAR(50))")
        cursor.executemany(
            "INSERT INTO bench_drivers VALUES (%s, %s)", [(i, f"name {i}") for i in range(1000)]
        )
    setup.commit()
    results = {}
    for name, connect in (("mysqlclient", connect_mysqlclient), ("PyMySQL", connect_pymysql)):
        connection = connect()
        cursor = connection.cursor()

        def lookup(cursor: Any = cursor) -> None:
            cursor.execute("SELECT id, name FROM bench_drivers WHERE id = %s", (7,))
            cursor.fetchall()

        def read(cursor: Any = cursor) -> None:
            cursor.execute("SELECT id, name FROM bench_drivers ORDER BY id LIMIT 100")
            cursor.fetchall()

        results[name] = (best(lookup, LOOKUPS), best(read, READS))
        connection.close()
    with setup.cursor() as cursor:
        cursor.execute("DROP TABLE bench_drivers")
    setup.close()
    print("| driver | primary-key lookup, µs | 100-row read, µs |")
    print("|---|---:|---:|")
    for name, (lookup_us, read_us) in results.items():
        print(f"| {name} | {lookup_us:.0f} | {read_us:.0f} |")
    ratio = statistics.fmean(
        p / m for p, m in zip(results["PyMySQL"], results["mysqlclient"], strict=True)
    )
    print(f"\nPyMySQL / mysqlclient, mean of the two: {ratio:.2f}×")


if __name__ == "__main__":
    main()
