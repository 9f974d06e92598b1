"""Reliability checks of the production setup (gunicorn + the shipped ``gunicorn.conf.py``, loopback only). Run by
hand (not a test: minutes of load); needs the warm ``index/`` of ``assistant index build``. Prints one JSON line per
scenario.

    .venv/bin/python scripts/reliability.py load  [--clients 50 --seconds 120] [--postgres]
    .venv/bin/python scripts/reliability.py kill  [--clients 50 --seconds 60]  [--postgres]
    .venv/bin/python scripts/reliability.py index [--clients 8]
    .venv/bin/python scripts/reliability.py pgrestart --postgres [--clients 20 --seconds 60 --outage 15]   # root

* ``load``: N clients ask for S seconds, every question with a unique ``client_msg_id``; afterwards the rows in
  ``questions`` are counted: stored must equal answered (2xx), no id twice, every returned question_id present.
* ``kill``: the same, and ``kill -9`` of one worker a third into the run (and of the other worker two thirds in).
  A client whose request fails retries it with the same ``client_msg_id`` (up to 5 times): every answered question
  must be stored exactly once, a retry must get the question_id of the first attempt when that was stored, gunicorn
  must respawn the worker and the service must keep answering.
* ``index``: the running service's passage index folder is deleted under load → detected, rebuilt from the database
  while the in-memory index answers (errors counted), ``/healthz`` ``index_health`` shown; then ``vectors.faiss`` is
  truncated and gunicorn restarted → the workers start anyway (rebuilt from the database and the embedding cache).
* ``pgrestart``: PostgreSQL is stopped under load for ``--outage`` s and started again: meanwhile every request
  gets 503 with a Chinese message (``/readyz`` too), then the same workers answer again without a restart; clients
  retry once a second with the same ``client_msg_id`` and every answered question is stored exactly once.

The database is a throw-away copy of ``instance/assistant.db`` (SQLite) or, with ``--postgres``, a new schema in
``$DATABASE_URL_TEST`` (default postgresql+psycopg://postgres@127.0.0.1:5432/test), dropped afterwards; the index
folder is a throw-away copy of ``index/``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from assistant.ops.bench import copy_sqlite, cpu_seconds, dev_questions, free_port, get, wait_ready, workers_of

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def questions() -> list[str]:
    return dev_questions(ROOT.parent / "shared" / "eval")

PG_URL = os.environ.get("DATABASE_URL_TEST", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent = 0  # distinct questions (client_msg_ids) attempted
        self.answered: dict[str, int] = {}  # client_msg_id -> question_id of its 2xx answer
        self.first_qid: dict[str, int] = {}
        self.failed: list[str] = []  # ids never answered
        self.errors: dict[str, int] = {}  # error kind -> count (attempts)
        self.retries = 0
        self.retry_qid_mismatch = 0
        self.statuses: dict[int, int] = {}
        self.bodies: dict[int, str] = {}  # status -> first body seen (5xx)


def client(port: int, run: str, cid: int, qs: list[str], deadline: float, t: Tally,
           patient: bool = False) -> None:
    """Ask until ``deadline``; a failed attempt is retried with the same client_msg_id (5 times, backing off; with
    ``patient`` once a second for up to 60 s, as a user told "请稍后重试" would). 503 bodies are sampled."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n = 0
    attempts = 61 if patient else 6
    while time.monotonic() < deadline:
        msg = f"{run}-{cid}-{n}"
        body = json.dumps({"question": qs[(cid * 31 + n) % len(qs)], "client_msg_id": msg},
                          ensure_ascii=False).encode("utf-8")
        n += 1
        with t.lock:
            t.sent += 1
        qid = None
        for attempt in range(attempts):
            if attempt:
                with t.lock:
                    t.retries += 1
                time.sleep(1.0 if patient else 0.2 * attempt)
            try:
                conn.request("POST", "/api/v1/ask", body=body, headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                with t.lock:
                    t.statuses[r.status] = t.statuses.get(r.status, 0) + 1
                if r.status == 200:
                    qid = int(json.loads(data)["question_id"])
                    break
                kind = f"http {r.status}"
                if r.status >= 500:
                    with t.lock:
                        t.bodies.setdefault(r.status, data.decode("utf-8", "replace")[:200])
            except (OSError, http.client.HTTPException) as exc:
                kind = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            with t.lock:
                t.errors[kind] = t.errors.get(kind, 0) + 1
        with t.lock:
            if qid is None:
                t.failed.append(msg)
            else:
                t.answered[msg] = qid
    conn.close()


def stored_rows(url: str, run: str) -> list[tuple[str, int]]:
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.connect() as conn:
        rows = conn.execute(text("SELECT client_msg_id, id FROM questions WHERE client_msg_id LIKE :p"),
                            {"p": f"{run}-%"}).all()
    eng.dispose()
    return [(str(a), int(b)) for a, b in rows]


class Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.port = int(env["GUNICORN_BIND"].rsplit(":", 1)[1])
        self.proc: subprocess.Popen | None = None

    def start(self, limit: float = 900) -> float:
        fh = self.log.open("ab")
        self.proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                                      "assistant.app:create_app()"], cwd=ROOT, env=self.env, stdout=fh, stderr=fh,
                                     start_new_session=True)
        return wait_ready(self.port, self.proc, limit)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def workers(self) -> list[int]:
        assert self.proc is not None
        return workers_of(self.proc.pid)


def health_per_worker(port: int, tries: int = 30) -> dict[int, dict]:
    out: dict[int, dict] = {}
    for _ in range(tries):
        try:
            _, h = get(port, "/healthz")
            out[int(h["pid"])] = h
        except (OSError, ValueError, KeyError):
            pass
    return out


def run_load(server: Server, args: argparse.Namespace, url: str, kill: bool) -> dict[str, object]:
    qs = questions()
    run = f"rel{uuid.uuid4().hex[:8]}"
    t = Tally()
    deadline = time.monotonic() + args.seconds
    ts = [threading.Thread(target=client, args=(server.port, run, i, qs, deadline, t)) for i in range(args.clients)]
    for th in ts:
        th.start()
    killed: list[int] = []
    respawned: list[int] = []
    n_workers = len(server.workers())
    if kill:
        for frac in (1 / 3, 2 / 3):
            time.sleep(max(0.0, deadline - args.seconds * (1 - frac) - time.monotonic()))
            before = server.workers()
            t0 = {p: cpu_seconds(p) for p in before}
            time.sleep(0.5)
            # the worker busiest right now: it has requests in flight (keep-alive clients stick to a worker)
            victim = max(before, key=lambda p: cpu_seconds(p) - t0[p])
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
    for th in ts:
        th.join()
    if kill:
        for _ in range(120):
            pids = server.workers()
            if len(pids) == n_workers and not set(pids) & set(killed):
                respawned = pids
                break
            time.sleep(0.5)
    ready = get(server.port, "/readyz")[0]
    rows = stored_rows(url, run)
    ids = [m for m, _ in rows]
    by_id = dict(rows)
    answered_ok = all(by_id.get(m) == q for m, q in t.answered.items())
    res: dict[str, object] = {
        "clients": args.clients, "seconds": args.seconds,
        "questions_sent": t.sent, "answered_2xx": len(t.answered), "never_answered": len(t.failed),
        "rows_stored": len(rows), "duplicate_rows": len(ids) - len(set(ids)),
        "answered_but_missing": sum(1 for m in t.answered if m not in by_id),
        "stored_without_answer": sum(1 for m in ids if m not in t.answered),
        "question_ids_match": answered_ok, "attempt_errors": t.errors, "retries": t.retries,
        "http_statuses": {str(k): v for k, v in sorted(t.statuses.items())}, "readyz_after": ready,
        "rps": round(len(t.answered) / args.seconds, 1),
    }
    if kill:
        res.update(killed_workers=killed, respawned_workers=respawned, respawned=bool(respawned))
    res["ok"] = (len(rows) - res["stored_without_answer"] == len(t.answered)  # type: ignore[operator]
                 and res["duplicate_rows"] == 0 and answered_ok and ready == 200
                 and not any(code >= 500 for code in t.statuses)
                 and (not kill or bool(respawned)))
    return res


def pg_cluster(action: str) -> None:
    """Stop or start the local PostgreSQL cluster (this machine's only cluster; needs root)."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action, *(
        ["-m", "fast"] if action == "stop" else [])], check=True)


def run_pgrestart(server: Server, args: argparse.Namespace, url: str) -> dict[str, object]:
    """Load; a third into the run PostgreSQL is stopped for ``--outage`` seconds, then started again. While it is
    down every request must get a 503 with a Chinese message (never a 500, never a hang); afterwards the workers
    must answer again without a restart, and every answered question must be stored exactly once."""
    qs = questions()
    run = f"pg{uuid.uuid4().hex[:8]}"
    t = Tally()
    deadline = time.monotonic() + args.seconds
    ts = [threading.Thread(target=client, args=(server.port, run, i, qs, deadline, t, True))
          for i in range(args.clients)]
    for th in ts:
        th.start()
    time.sleep(args.seconds / 3)
    pids_before = server.workers()
    down_at = time.monotonic()
    pg_cluster("stop")
    outage_ready: list[int] = []
    while time.monotonic() - down_at < args.outage:
        try:
            outage_ready.append(get(server.port, "/readyz")[0])
        except OSError:
            outage_ready.append(0)
        time.sleep(1)
    pg_cluster("start")
    up_at = time.monotonic()
    recovered_s = None
    while time.monotonic() - up_at < 60:
        try:
            if get(server.port, "/readyz")[0] == 200:
                recovered_s = round(time.monotonic() - up_at, 1)
                break
        except OSError:
            pass
        time.sleep(0.2)
    for th in ts:
        th.join()
    rows = stored_rows(url, run)
    ids = [m for m, _ in rows]
    by_id = dict(rows)
    answered_ok = all(by_id.get(m) == q for m, q in t.answered.items())
    body503 = t.bodies.get(503, "")
    res: dict[str, object] = {
        "clients": args.clients, "seconds": args.seconds, "outage_s": args.outage,
        "questions_sent": t.sent, "answered_2xx": len(t.answered), "never_answered": len(t.failed),
        "rows_stored": len(rows), "duplicate_rows": len(ids) - len(set(ids)),
        "answered_but_missing": sum(1 for m in t.answered if m not in by_id),
        "question_ids_match": answered_ok, "retries": t.retries,
        "http_statuses": {str(k): v for k, v in sorted(t.statuses.items())},
        "readyz_during_outage": sorted(set(outage_ready)), "sample_503": body503,
        "recovered_after_start_s": recovered_s, "same_workers": server.workers() == pids_before,
    }
    res["ok"] = (t.statuses.get(500, 0) == 0 and 503 in t.statuses and "数据库" in body503
                 and set(outage_ready) == {503} and recovered_s is not None and res["same_workers"] is True
                 and not t.failed and res["duplicate_rows"] == 0 and answered_ok
                 and res["answered_but_missing"] == 0)
    return res


def run_index(server: Server, args: argparse.Namespace, index_dir: Path) -> dict[str, object]:
    qs = questions()
    t = Tally()
    seen: dict[str, int] = {}
    folder = index_dir / "passages"
    stop = threading.Event()

    def loop(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        n = 0
        while not stop.is_set():
            body = json.dumps({"question": qs[(i * 31 + n) % len(qs)]}, ensure_ascii=False).encode("utf-8")
            n += 1
            try:
                conn.request("POST", "/api/v1/ask", body=body, headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                key = str(r.status)
            except (OSError, http.client.HTTPException) as exc:
                key = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            with t.lock:
                seen[key] = seen.get(key, 0) + 1
        conn.close()

    ts = [threading.Thread(target=loop, args=(i,)) for i in range(args.clients)]
    for th in ts:
        th.start()
    time.sleep(3)
    shutil.rmtree(folder)
    t_del = time.monotonic()
    detected = repaired = None
    states: set[str] = set()
    while time.monotonic() - t_del < 600:
        hs = health_per_worker(server.port, 6)
        for h in hs.values():
            st = h.get("index_health", {}).get("state", "?")
            states.add(st)
            if st in ("repairing", "repaired_elsewhere", "repaired") and detected is None:
                detected = time.monotonic() - t_del
        if (folder / "manifest.json").exists() and any(h.get("index_health", {}).get("state") == "repaired"
                                                       for h in hs.values()):
            repaired = time.monotonic() - t_del
            break
        time.sleep(0.5)
    time.sleep(3)  # the other worker reloads the published rebuild
    stop.set()
    for th in ts:
        th.join()
    live = {"deleted": "index/passages/ (whole folder) under load", "detected_s": round(detected, 1) if detected
            else None, "rebuilt_s": round(repaired, 1) if repaired else None, "states_seen": sorted(states),
            "http_statuses_during": dict(seen),
            "healthz_after": {pid: {"index_health": h.get("index_health"), "mode": h.get("retrieval_mode"),
                                    "versions": h.get("index_versions")}
                              for pid, h in health_per_worker(server.port).items()}}
    # restart on a corrupt file
    server.stop()
    v = folder / "vectors.faiss"
    v.write_bytes(v.read_bytes()[: v.stat().st_size // 3])
    t0 = time.monotonic()
    ready_s = server.start()
    hs = health_per_worker(server.port)
    restart = {"corrupted": "index/passages/vectors.faiss truncated to a third, then gunicorn restarted",
               "ready_s": round(ready_s, 1),
               "healthz": {pid: {"index_health": h.get("index_health"), "mode": h.get("retrieval_mode"),
                                 "vectors": h.get("vectors")} for pid, h in hs.items()}}
    hybrid_s = None
    while time.monotonic() - t0 < 600:
        hs = health_per_worker(server.port, 6)
        if hs and all(h.get("retrieval_mode") == "hybrid" for h in hs.values()):
            hybrid_s = time.monotonic() - t0
            break
        time.sleep(1)
    restart["hybrid_again_s"] = round(hybrid_s, 1) if hybrid_s else None
    ok = bool(repaired) and set(seen) == {"200"} and bool(hybrid_s)
    return {"live": live, "restart": restart, "ok": ok}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", choices=["load", "kill", "index", "pgrestart"])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--outage", type=float, default=15, help="pgrestart: seconds PostgreSQL stays down")
    args = ap.parse_args()
    if args.scenario == "pgrestart" and not args.postgres:
        ap.error("pgrestart needs --postgres")

    tmp = Path(tempfile.mkdtemp(prefix="reliability_"))
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env["GUNICORN_BIND"] = f"127.0.0.1:{free_port()}"
    env["ASSISTANT_RATELIMIT_ASK"] = "1000000/minute"
    env["ASSISTANT_RATELIMIT_WRITE"] = "1000000/minute"
    index_dir = tmp / "index"
    shutil.copytree(ROOT / "index", index_dir, ignore=shutil.ignore_patterns(".*tmp-*", ".*old-*"))
    env["ASSISTANT_INDEX_DIR"] = str(index_dir)
    schema = None
    admin = None
    if args.postgres:
        from sqlalchemy import create_engine, text

        schema = f"rel_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)  # survives pgrestart
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = PG_URL + ("&" if "?" in PG_URL else "?") + "options=" + quote(f"-csearch_path={schema}", safe="")
    else:
        copy_sqlite(ROOT / "instance" / "assistant.db", tmp / "assistant.db")
        url = f"sqlite:///{tmp / 'assistant.db'}"
    env["DATABASE_URL"] = url
    server = Server(env, tmp / "gunicorn.log")
    try:
        ready_s = server.start()
        if args.scenario == "index":
            res = run_index(server, args, index_dir)
        elif args.scenario == "pgrestart":
            res = run_pgrestart(server, args, url)
        else:
            res = run_load(server, args, url, kill=args.scenario == "kill")
        res = {"scenario": args.scenario, "database": "postgresql" if args.postgres else "sqlite",
               "ready_s": round(ready_s, 1), **res}
        print(json.dumps(res, ensure_ascii=False, default=str))
    finally:
        server.stop()
        if admin is not None and schema is not None:
            from sqlalchemy import text

            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
        log = (tmp / "gunicorn.log").read_text("utf-8", "replace") if (tmp / "gunicorn.log").exists() else ""
        errs = [ln for ln in log.splitlines()
                if "Traceback" in ln or "level=ERROR" in ln or "level=CRITICAL" in ln or "[ERROR]" in ln]
        print(json.dumps({"gunicorn_log_error_lines": len(errs), "sample": errs[:5]}, ensure_ascii=False),
              file=sys.stderr)
        lines = log.splitlines()
        for i, ln in enumerate(lines):  # every traceback in full: a 500 must be explained, not counted
            if ln.startswith("Traceback"):
                end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("ts=")), len(lines))
                print("\n".join(lines[max(0, i - 1):end]), file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
