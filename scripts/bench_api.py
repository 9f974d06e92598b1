"""HTTP benchmark of the production setup: gunicorn with the shipped ``gunicorn.conf.py`` on a free loopback port,
a bounded load of concurrent clients on ``POST /api/v1/ask``, latency percentiles and throughput. Run by hand
(not a test; needs the warm ``index/`` of ``assistant index build``):

    .venv/bin/python scripts/bench_api.py --json [--threads 8] [--seconds 30]

The database is a throw-away copy of the SQLite default (``instance/assistant.db``), so the bench's questions never
land in the real question log; with ``DATABASE_URL`` set that database is used as is (its question log grows).
Questions: the dev split of ``../shared/eval/queries_mee_title2record.jsonl`` plus the out-of-scope dev queries.
Only 127.0.0.1 is ever contacted; gunicorn is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else 0.0


def questions() -> list[str]:
    out: list[str] = []
    for name in ("queries_mee_title2record.jsonl", "queries_out_of_scope.jsonl"):
        with (EVAL / name).open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    if row.get("split") == "dev":
                        out.append(row["query"])
    return out


def get(port: int, path: str, timeout: float = 5) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
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


def client(port: int, qs: list[str], offset: int, deadline: float, lat: list[float], errs: list[str],
           lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = offset
    mine: list[float] = []
    bad: list[str] = []
    while time.monotonic() < deadline:
        body = json.dumps({"question": qs[i % len(qs)]}, ensure_ascii=False).encode("utf-8")
        i += 1
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/ask", body=body, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                mine.append((time.perf_counter() - t0) * 1000)
            else:
                bad.append(f"http {r.status}")
        except (OSError, http.client.HTTPException) as exc:
            bad.append(type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()
    with lock:
        lat.extend(mine)
        errs.extend(bad)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--ready-timeout", type=float, default=600)
    ap.add_argument("--json", action="store_true", help="print only the JSON result line")
    args = ap.parse_args()

    qs = questions()
    port = free_port()
    tmp = tempfile.TemporaryDirectory(prefix="bench_api_")
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    env["ASSISTANT_RATELIMIT_ASK"] = env.get("ASSISTANT_RATELIMIT_BENCH", "100000/minute")
    env["ASSISTANT_RATELIMIT_WRITE"] = "100000/minute"
    if "DATABASE_URL" not in os.environ:
        src = ROOT / "instance" / "assistant.db"
        dst = Path(tmp.name) / "assistant.db"
        if src.exists():  # a consistent copy of the live database, WAL included
            with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
                a.backup(b)
        env["DATABASE_URL"] = f"sqlite:///{dst}"
    log_path = Path(tmp.name) / "gunicorn.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                                 "assistant.app:create_app()"], cwd=ROOT, env=env, stdout=log, stderr=log,
                                start_new_session=True)
        try:
            ready_s = wait_ready(port, proc, args.ready_timeout)
            status = get(port, "/healthz")[1]
            lat: list[float] = []
            errs: list[str] = []
            lock = threading.Lock()
            t0 = time.monotonic()
            deadline = t0 + args.seconds
            ts = [threading.Thread(target=client, args=(port, qs, i * 37, deadline, lat, errs, lock))
                  for i in range(args.threads)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            wall = time.monotonic() - t0
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    result = {
        "passages": status.get("passages"), "curated_rows": status.get("curated_rows"),
        "retrieval_mode": status.get("retrieval_mode"), "workers": int(env.get("WEB_CONCURRENCY", "2")),
        "client_threads": args.threads, "seconds": round(wall, 1), "requests": len(lat),
        "p50_ms": round(pct(lat, 50), 1), "p95_ms": round(pct(lat, 95), 1), "p99_ms": round(pct(lat, 99), 1),
        "rps": round(len(lat) / wall, 1) if wall else 0.0, "errors": len(errs),
        "error_kinds": sorted(set(errs)), "ready_seconds": round(ready_s, 1), "questions": len(qs),
        "database": "sqlite (copy of instance/assistant.db)" if "DATABASE_URL" not in os.environ else "DATABASE_URL",
    }
    if not args.json:
        print(log_path.read_text("utf-8", "replace")[-3000:], file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False))
    tmp.cleanup()


if __name__ == "__main__":
    main()
