"""Cold and warm start of `laiban serve` on SQLite: seconds from process start to the first 200 of /healthz.

Cold: a fresh data folder (no database, no secret key), so the start includes creating and migrating the
database. Warm: the same folder again, already migrated. Talks only to 127.0.0.1 and stops by itself:
every start has a deadline and every server is killed after its measurement.

    python bench/startup.py [--runs 5]

Prints one `name value` line per figure.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEADLINE_S = 60.0  # one start may take at most this long
POLL_INTERVAL_S = 0.005


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthz_ok(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def time_start(data_dir: Path, log: Path) -> float:
    """Seconds from spawning `laiban serve` until /healthz answers 200; the server is killed afterwards."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LAIBAN_")}
    env["LAIBAN_DATA_DIR"] = str(data_dir)
    env["LAIBAN_LOG_LEVEL"] = "warning"
    port = free_port()
    command = [sys.executable, "-m", "laiban.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    try:
        while True:
            elapsed = time.perf_counter() - started
            if healthz_ok(port):
                return elapsed
            if process.poll() is not None:
                raise SystemExit(
                    f"laiban serve exited with {process.returncode}; see {log}:\n{log.read_text()}"
                )
            if elapsed > DEADLINE_S:
                raise SystemExit(
                    f"laiban serve did not answer /healthz within {DEADLINE_S} s:\n{log.read_text()}"
                )
            time.sleep(POLL_INTERVAL_S)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="starts of each kind (default 5)")
    runs = max(1, parser.parse_args().runs)
    with tempfile.TemporaryDirectory(prefix="laiban-bench-") as root:
        log = Path(root) / "serve.log"
        cold = [time_start(Path(root) / f"cold-{run}", log) for run in range(runs)]
        warm_dir = Path(root) / "cold-0"  # migrated by the first cold start
        warm = [time_start(warm_dir, log) for _ in range(runs)]
    print(f"serve_cold_start_first_run_s {cold[0]:.2f}")
    print(f"serve_cold_start_median_s {statistics.median(cold):.2f}")
    print(f"serve_cold_start_max_s {max(cold):.2f}")
    print(f"serve_warm_start_median_s {statistics.median(warm):.2f}")
    print(f"serve_warm_start_max_s {max(warm):.2f}")
    print(f"serve_start_runs {runs}")


if __name__ == "__main__":
    main()
