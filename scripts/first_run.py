"""How long a new user waits: clone the repository (committed state) into a fresh folder beside ``../shared``, run
``bash scripts/run.sh`` there and watch ``/healthz`` and ``/api/v1/ask`` until everything is hybrid and the scanned
standards are indexed. Prints a timeline in seconds from the command (install included).

    .venv/bin/python scripts/first_run.py [--dest /tmp/first-run] [--timeout 1800] [--keep]

Nothing but 127.0.0.1 is contacted by the service; the install step uses the machine's package index as
``scripts/install.sh`` does.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from assistant.ops.bench import free_port, get, request

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dest", type=Path, default=Path("/tmp/first-run"))
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--keep", action="store_true", help="leave the clone in place")
    args = ap.parse_args()
    base = args.dest
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    (base / "shared").symlink_to(ROOT.parent / "shared")
    repo = base / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "DATABASE_URL", "VIRTUAL_ENV"))}
    env.update(PORT=str(port), HOST="127.0.0.1")
    t0 = time.monotonic()
    log = (base / "run.log").open("wb")
    proc = subprocess.Popen(["bash", "scripts/run.sh"], cwd=repo, env=env, stdout=log, stderr=log,
                            start_new_session=True)
    marks: dict[str, float] = {}

    def mark(name: str) -> None:
        if name not in marks:
            marks[name] = round(time.monotonic() - t0, 1)
            print(f"{marks[name]:7.1f} s  {name}", flush=True)

    last: dict[str, object] = {}
    try:
        while time.monotonic() - t0 < args.timeout and proc.poll() is None:
            if (repo / ".venv" / "bin" / "assistant").exists():
                mark("installed")
            try:
                code, health = get(port, "/healthz")
            except OSError:
                time.sleep(0.5)
                continue
            if code == 200:
                mark("healthz ready")
                last = health
                if "answered" not in marks:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    try:
                        c, body = request(conn, "POST", "/api/v1/ask", {"question": "排污许可证有效期是几年？"})
                    finally:
                        conn.close()
                    if c == 200 and body.get("decision"):
                        mark(f"answered ({body['decision']})")
                        marks["answered"] = marks[f"answered ({body['decision']})"]
                modes = health.get("retrieval_modes") or {}
                if modes.get("curated") == "hybrid":
                    mark("curated hybrid")
                if modes.get("passages") == "hybrid":
                    mark("passages hybrid")
                scans = health.get("scans") or {}
                if scans.get("state") in ("indexed", "none") and modes.get("passages") == "hybrid":
                    mark(f"scans {scans.get('state')}")
                    break
            time.sleep(1)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    print(json.dumps({"seconds": marks, "passages": last.get("passages"), "scans": last.get("scans"),
                      "retrieval_modes": last.get("retrieval_modes")}, ensure_ascii=False))
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
