"""What picking the answering sentence costs per answer: 8 article questions answered with the sentence vectors not
yet cached ("cold": an index copy without its embedding cache; the questions are encoded too) and then again
("warm"). Prints medians and maxima.

    .venv/bin/python scripts/bench_sentences.py
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from assistant.config import Settings
from assistant.evaluation import loaded_service
from assistant.service import AssistantService

QUESTIONS = ["企业未按规定公开环境信息的怎么处罚", "建设项目竣工环境保护验收期限是多长", "危险废物贮存不得超过多长时间",
             "噪声敏感建筑物集中区域夜间施工需要什么手续", "船舶含油污水应当交给谁接收", "排污单位自行监测数据保存多久",
             "环境影响报告书审批时限是多少天", "土壤污染状况调查报告由谁评审"]


def main() -> None:
    base = Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="bench-sentences-") as tmp:
        index_dir = Path(tmp) / "index"
        shutil.copytree(base.search.index_dir, index_dir, ignore=shutil.ignore_patterns("embeddings.sqlite*"))
        # no embedding cache: the indexes carry their vectors, the sentences (and the questions) start uncached
        svc = loaded_service(AssistantService(base.evolve(index_dir=index_dir, warm_up=False)))
        svc.answer("预热：排污许可证有效期")
        for label in ("cold", "warm"):
            ms = []
            for q in QUESTIONS:
                t0 = time.perf_counter()
                svc.answer(q)
                ms.append((time.perf_counter() - t0) * 1000)
            print(f"{label}: median {statistics.median(ms):.1f} ms, max {max(ms):.1f} ms over {len(ms)} answers")


if __name__ == "__main__":
    main()
