"""Property-based fuzzing of the public API at length: the properties of ``tests/api_fuzz.py`` (never a 5xx,
JSON errors with ``error_code`` and a Chinese message, ``/ask`` stores exactly once, no markup echoed) on the
fixture corpus with the hash encoder, in-process (Flask test client). Prints the count of responses per endpoint
and status; exits 1 on the first property violation (with Hypothesis' minimal failing input).

    .venv/bin/python tests/fuzz_api_long.py --examples 10000 [--db sqlite|postgresql] [--seed 0]

It lives beside the tests because it runs their properties and fixtures (scripts/ import only ``assistant``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any


def _runner(strategy: Any, send: Any, n: int, rnd: int, given: Any, seed: Any, hsettings: Any, hc: Any) -> Any:
    @seed(rnd)
    @hsettings(max_examples=n, deadline=None, database=None, suppress_health_check=list(hc))
    @given(strategy)
    def run(arg: Any) -> None:
        send(arg)

    return run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=10_000, help="inputs in total, split over the endpoints")
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from api_fuzz import Checker, fuzz_app, properties
    from conftest import make_settings, pg_schema
    from hypothesis import HealthCheck, given, seed
    from hypothesis import settings as hsettings

    with tempfile.TemporaryDirectory(prefix="fuzz-api-") as tmp:
        schemas = None
        if args.db == "postgresql":
            schemas = pg_schema()
            url = next(schemas)
        else:
            url = f"sqlite:///{Path(tmp) / 'env' / 'assistant.db'}"
        app = fuzz_app(make_settings(Path(tmp) / "env", url))
        checker = Checker(app)
        props = properties(checker)
        per = max(1, -(-args.examples // len(props)))  # at least --examples in total
        failed = False
        t0 = time.perf_counter()
        for name, (strategy, send) in props.items():
            run = _runner(strategy, send, per, args.seed, given, seed, hsettings, HealthCheck)
            t = time.perf_counter()
            try:
                run()
                print(f"{name:10s} ok    {time.perf_counter() - t:6.1f} s", flush=True)
            except Exception as exc:  # a property violation, or an exception the app let through
                failed = True
                print(f"{name:10s} FAIL  {type(exc).__name__}: {str(exc)[:2000]}", flush=True)
        app.extensions["assistant"].engine.dispose()
        if schemas is not None:
            schemas.close()
    total = sum(checker.counts.values())
    print(f"\n{total} requests in {time.perf_counter() - t0:.1f} s ({args.db}); responses per endpoint and status:")
    endpoints = sorted({ep for ep, _ in checker.counts})
    for ep in endpoints:
        row = {st: n for (e, st), n in checker.counts.items() if e == ep}
        print(f"  {ep:22s} {sum(row.values()):6d}  " + "  ".join(f"{st}: {n}" for st, n in sorted(row.items())))
    fives = sum(n for (_, st), n in checker.counts.items() if st >= 500)
    print(f"5xx responses: {fives}")
    return 1 if failed or fives else 0


if __name__ == "__main__":
    raise SystemExit(main())
