"""统计看板 (``/console/dashboard``) and its CSV downloads (``/console/dashboard.csv?table=…``).

The numbers live in :mod:`assistant.consult.stats`, the scope rules in :mod:`assistant.consult.stats_scope`,
the tables in :mod:`assistant.consult.stats_tables`; this view only reads the parameters
(``days`` 7/30/90, ``district`` for city-wide users) and renders. Every table is plain HTML (readable without
JavaScript); the charts are drawn by ``dashboard.js`` with the vendored Chart.js from the JSON block on the page.
"""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request

from ..consult import stats, stats_scope, stats_tables
from ..updates import notices
from .common import actor, bp, error_response, svc


def _load() -> tuple[stats.Dashboard, dict[str, stats_tables.Table]]:
    a = actor()
    with svc().Session() as s:
        dash = stats.dashboard(s, a, days=request.args.get("days"), district=request.args.get("district", ""))
    return dash, stats_tables.tables(dash)


@bp.get("/dashboard")
def dashboard() -> Any:
    dash, tabs = _load()
    with svc().Session() as s:
        policy = notices.stats(s)  # 政策速递 notices: city-wide (a change concerns every district's askers)
    return render_template("console/dashboard.html", dash=dash, tables=tabs, chart=stats_tables.chart_data(dash),
                           windows=stats_scope.WINDOWS, pct=stats_tables.pct, num=stats_tables.num, policy=policy)


@bp.get("/dashboard.csv")
def dashboard_csv() -> Any:
    dash, tabs = _load()
    name = (request.args.get("table") or "").strip()
    table = tabs.get(name)
    if table is None:
        names = "、".join(f"{t.name}（{t.title}）" for t in tabs.values())
        return error_response(400, f"没有这个统计表：{name[:40] or '（未指定）'}。可下载：{names}", "invalid_table")
    scope = dash.scope.filter or (dash.scope.district if not dash.scope.city_wide else "") or "all"
    fname = f"dashboard-{table.name}-{dash.window.days}d-{dash.window.end.isoformat()}.csv"
    resp = Response(stats_tables.csv_bytes(table), mimetype="text/csv")
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    from urllib.parse import quote

    cn_name = f"统计看板-{table.title}-{scope if scope != 'all' else '全市'}-近{dash.window.days}天.csv"
    resp.headers["Content-Disposition"] = f"attachment; filename=\"{fname}\"; filename*=UTF-8''{quote(cn_name)}"
    resp.headers["Cache-Control"] = "no-store"
    return resp
