"""Portable, database-independent backup and restore (``assistant backup create`` / ``restore``).

A backup is a ``.tar.gz`` holding

* ``manifest.json`` — format, Alembic revision, app version, created time (UTC), source dialect, and per table
  (in dependency order) its file name and row count;
* ``tables/NN_<table>.jsonl`` — one JSON object per row, columns by name; dates as ``YYYY-MM-DD``, datetimes as
  ISO 8601 in UTC (naive SQLite values are UTC, as the app writes them), JSON columns as JSON;
* ``corpus/curated/…`` — the curated YAML folder.

Nothing dialect-specific is stored, so a SQLite backup restores into PostgreSQL and vice versa. ``index_state``
is not backed up: it describes the ``index/`` folder of one machine; after a restore run ``assistant index build``.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from alembic.script import ScriptDirectory
from sqlalchemy import Date, DateTime, Engine, Table, func, select, text

from .. import __version__
from ..db.migrate import alembic_config
from ..db.models import Base
from ..errors import BackupError

FORMAT = "zhoushan-assistant-backup/1"
MANIFEST = "manifest.json"
CURATED_PREFIX = "corpus/curated/"
#: derived, per-machine state: not part of a backup (rebuilt by ``assistant index build``)
SKIPPED_TABLES = frozenset({"index_state"})
BATCH = 1000


def tables() -> list[Table]:
    """The backed-up tables in dependency order (parents first)."""
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return str(script.get_current_head())


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:  # no alembic_version table: never migrated
            return None


# -- values ------------------------------------------------------------------------------------------------------
def _dump_value(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _loader(table: Table) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in table.columns:
        if isinstance(col.type, DateTime):
            out[col.name] = lambda v: None if v is None else datetime.fromisoformat(v).astimezone(UTC)
        elif isinstance(col.type, Date):
            out[col.name] = lambda v: None if v is None else date.fromisoformat(v)
    return out


# -- create ------------------------------------------------------------------------------------------------------
@dataclass
class BackupInfo:
    path: Path
    revision: str
    counts: dict[str, int]
    curated_files: int
    created_at: str
    bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def create_backup(engine: Engine, curated_dir: Path, out: Path) -> BackupInfo:
    """Write a backup of every table and of ``curated_dir`` to ``out`` (written to a temp file, then renamed)."""
    revision = current_revision(engine)
    if revision is None:
        raise BackupError("not_migrated", "数据库尚未初始化（没有 Alembic 版本），请先运行 assistant db upgrade")
    head = head_revision()
    if revision != head:
        raise BackupError("not_head", f"数据库结构版本（Alembic {revision}）不是当前程序的最新版本（{head}），"
                                      "备份只支持最新结构：请先运行 assistant db upgrade 再备份")
    created = datetime.now(UTC).replace(microsecond=0)
    out.parent.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    entries: list[dict[str, Any]] = []
    curated: list[dict[str, Any]] = []
    tmp = out.with_name(out.name + ".part")
    with tempfile.TemporaryDirectory(prefix="assistant-backup-") as work, \
            tarfile.open(tmp, "w:gz") as tar:
        # every table from one snapshot: a repeatable-read transaction on PostgreSQL, an explicit read transaction
        # on SQLite (pysqlite would otherwise read each table in its own implicit transaction)
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            elif engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN")
            for i, table in enumerate(tables(), start=1):
                fname = f"tables/{i:02d}_{table.name}.jsonl"
                local = Path(work) / f"{i:02d}.jsonl"
                pk = list(table.primary_key.columns)
                n = 0
                with local.open("w", encoding="utf-8") as fh:
                    result = conn.execution_options(yield_per=BATCH).execute(select(table).order_by(*pk))
                    for row in result.mappings():
                        fh.write(json.dumps({k: _dump_value(v) for k, v in row.items()}, ensure_ascii=False,
                                            separators=(",", ":")) + "\n")
                        n += 1
                tar.add(local, arcname=fname)
                counts[table.name] = n
                entries.append({"table": table.name, "file": fname, "rows": n})
        if curated_dir.is_dir():
            for p in sorted(curated_dir.rglob("*")):
                if p.is_file():
                    rel = p.relative_to(curated_dir).as_posix()
                    data = p.read_bytes()
                    _add_bytes(tar, CURATED_PREFIX + rel, data, p.stat().st_mtime)
                    curated.append({"path": rel, "sha256": hashlib.sha256(data).hexdigest()})
        manifest = {
            "format": FORMAT,
            "alembic_revision": revision,
            "app_version": __version__,
            "created_at": created.isoformat(),
            "source_dialect": engine.dialect.name,
            "tables": entries,
            "skipped_tables": sorted(SKIPPED_TABLES),
            "curated_files": curated,
        }
        _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"),
                   created.timestamp())
    tmp.replace(out)
    return BackupInfo(out, revision, counts, len(curated), created.isoformat(), out.stat().st_size)


# -- restore -----------------------------------------------------------------------------------------------------
def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        fh = tar.extractfile(MANIFEST)
    except KeyError:
        fh = None
    if fh is None:
        raise BackupError("no_manifest", "备份文件中没有 manifest.json，不是本系统的备份")
    manifest: dict[str, Any] = json.loads(fh.read().decode("utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError("bad_format", f"不支持的备份格式：{manifest.get('format')}（需要 {FORMAT}）")
    return manifest


def _open(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError("not_found", f"找不到备份文件：{path}")
    try:
        return tarfile.open(path, "r:gz")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError("unreadable", f"无法读取备份文件 {path}：{exc}") from None


def _rows(fh: IO[bytes], loaders: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for raw in fh:
        line = raw.strip()
        if not line:
            continue
        row: dict[str, Any] = json.loads(line)
        for name, load in loaders.items():
            if name in row:
                row[name] = load(row[name])
        yield row


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0) for t in tables()}


def _safe_rel(name: str) -> PurePosixPath | None:
    rel = PurePosixPath(name[len(CURATED_PREFIX):])
    if not rel.parts or rel.is_absolute() or ".." in rel.parts:
        return None
    return rel


def _curated_members(tar: tarfile.TarFile) -> dict[PurePosixPath, bytes]:
    out: dict[PurePosixPath, bytes] = {}
    for m in tar.getmembers():
        if m.isfile() and m.name.startswith(CURATED_PREFIX):
            rel = _safe_rel(m.name)
            fh = tar.extractfile(m)
            if rel is not None and fh is not None:
                out[rel] = fh.read()
    return out


def _folder_files(folder: Path) -> dict[PurePosixPath, bytes]:
    if not folder.is_dir():
        return {}
    return {PurePosixPath(p.relative_to(folder).as_posix()): p.read_bytes()
            for p in folder.rglob("*") if p.is_file()}


@dataclass
class RestoreInfo:
    revision: str
    counts: dict[str, int]
    truncated: bool
    curated: str  # unchanged | written | replaced
    curated_backup_dir: Path | None
    manifest: dict[str, Any]


def restore_backup(engine: Engine, archive: Path, curated_dir: Path, force: bool = False) -> RestoreInfo:
    """Restore ``archive`` into the (migrated) database at ``engine`` and into ``curated_dir``.

    Refuses a backup of another Alembic revision than the current head, and a non-empty database or a curated
    folder that differs from the backup unless ``force`` (then the tables are emptied in reverse dependency order
    and the old curated folder is kept next to it as ``curated.before-restore-<time>``).
    """
    with _open(archive) as tar:
        manifest = read_manifest(tar)
        head = head_revision()
        rev = manifest.get("alembic_revision")
        if rev != head:
            raise BackupError("revision_mismatch",
                              f"备份的数据库结构版本（Alembic {rev}）与当前程序的版本（{head}）不一致，拒绝恢复。"
                              "请使用同一版本的程序恢复此备份，或先用与备份相同版本的程序恢复后再升级。")
        target_rev = current_revision(engine)
        if target_rev != head:
            raise BackupError("target_not_migrated",
                              f"目标数据库的结构版本（{target_rev or '未初始化'}）不是最新（{head}），"
                              "请先运行 assistant db upgrade")
        known = {t.name: t for t in tables()}
        listed = [e["table"] for e in manifest.get("tables", [])]
        unknown = [n for n in listed if n not in known]
        if unknown:
            raise BackupError("unknown_table", f"备份中有本程序不认识的数据表：{'、'.join(unknown)}")
        existing = {k: v for k, v in row_counts(engine).items() if v}
        files = _curated_members(tar)
        current_files = _folder_files(curated_dir)
        curated_differs = bool(current_files) and current_files != files
        if (existing or curated_differs) and not force:
            parts = []
            if existing:
                parts.append("目标数据库不是空的（" + "，".join(f"{k} {v} 行" for k, v in existing.items()) + "）")
            if curated_differs:
                parts.append(f"精选问答目录 {curated_dir} 与备份中的不同")
            raise BackupError("target_not_empty", "；".join(parts) + "。确认要覆盖时请加 --yes（先清空再恢复）")

        order = [known[e["table"]] for e in manifest["tables"]]
        order_names = {t.name for t in order}
        with engine.begin() as conn:
            if existing:
                for t in reversed(tables()):
                    conn.execute(t.delete())
            for entry, table in zip(manifest["tables"], order, strict=True):
                fh = tar.extractfile(entry["file"])
                if fh is None:
                    raise BackupError("missing_file", f"备份文件缺少 {entry['file']}")
                loaders = _loader(table)
                cols = {c.name for c in table.columns}
                batch: list[dict[str, Any]] = []
                n = 0
                for row in _rows(fh, loaders):
                    batch.append({k: v for k, v in row.items() if k in cols})
                    if len(batch) >= BATCH:
                        conn.execute(table.insert(), batch)
                        n += len(batch)
                        batch = []
                if batch:
                    conn.execute(table.insert(), batch)
                    n += len(batch)
                if n != int(entry["rows"]):
                    raise BackupError("count_mismatch", f"数据表 {table.name} 应有 {entry['rows']} 行，读到 {n} 行")
            if engine.dialect.name == "postgresql":
                _reset_sequences(conn, [t for t in tables() if t.name in order_names])

    backup_dir: Path | None = None
    if not files:
        state = "unchanged"
    elif current_files == files:
        state = "unchanged"
    else:
        if current_files:
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
            backup_dir = curated_dir.with_name(f"{curated_dir.name}.before-restore-{stamp}")
            shutil.move(str(curated_dir), str(backup_dir))
        for rel, data in files.items():
            dest = curated_dir.joinpath(*rel.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        state = "replaced" if backup_dir else "written"
    return RestoreInfo(str(rev), row_counts(engine), bool(existing), state, backup_dir, manifest)


def _reset_sequences(conn: Any, restored: list[Table]) -> None:
    """Set each serial primary key's sequence past the restored ids (PostgreSQL)."""
    for t in restored:
        pk = list(t.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type.python_type, type) or pk[0].type.python_type is not int:
            continue
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": t.name, "c": pk[0].name}).scalar()
        if not seq:
            continue
        conn.execute(text(f'SELECT setval(:s, COALESCE((SELECT MAX("{pk[0].name}") FROM "{t.name}"), 1), '
                          f'(SELECT MAX("{pk[0].name}") FROM "{t.name}") IS NOT NULL)'), {"s": seq})
