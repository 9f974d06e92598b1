"""Helpers of the production benchmarks and fault tests (``scripts/bench_api.py``, ``scripts/bench_build.py``,
``scripts/reliability.py``): ports, HTTP calls, readiness, gunicorn workers and their CPU/memory, percentiles.
Linux only (reads ``/proc``); never used by the service itself."""

from __future__ import annotations

import http.client
import json
import os
import socket
import sqlite3
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else 0.0


def dev_questions(eval_dir: Path) -> list[str]:
    """The dev questions of ../shared/eval that the benchmarks send: mailbox titles and out-of-scope petitions."""
    out: list[str] = []
    for name in ("queries_mee_title2record.jsonl", "queries_out_of_scope.jsonl"):
        with (eval_dir / name).open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    if row.get("split") == "dev":
                        out.append(row["query"])
    return out


def request(conn: http.client.HTTPConnection, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
    r = conn.getresponse()
    raw = r.read()
    return r.status, json.loads(raw or b"{}")


def get(port: int, path: str, timeout: float = 5) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        return request(conn, "GET", path)
    finally:
        conn.close()


def wait_ready(port: int, proc: subprocess.Popen, limit: float) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode} before it was ready")
        try:
            if get(port, "/readyz")[0] == 200:
                return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"gunicorn not ready within {limit:.0f} s")


def workers_of(master: int) -> list[int]:
    """pids of the gunicorn workers (children of the master)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                out.append(int(d.name))
    return sorted(out)


def copy_sqlite(src: Path, dst: Path) -> None:
    """A consistent copy of a live SQLite database (WAL included), through SQLite's backup API."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_info(pid: int) -> dict[str, float]:
    """RSS / peak RSS (MiB) and CPU seconds of a process."""
    info: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                info[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return info
    info["cpu_s"] = round(cpu_seconds(pid), 1)
    return info


__all__ = ["copy_sqlite", "cpu_seconds", "dev_questions", "free_port", "get", "pct", "proc_info", "request",
           "wait_ready", "workers_of"]
