"""Classification speed and memory: `python bench/classify.py [--repeat N]`.

Prints, from one run:
- full `classify()` throughput (messages/s) on a realistic group-chat mix (the labelled files in
  tests/data: reports, urgent messages, inquiries and a third of chatter), beside raw `jieba.lcut`
  throughput on the same messages, and their ratio (target >= 0.7); also our own segmentation call
  alone, so the cost classification adds beyond segmenting is visible;
- cold start: wall time from launching `huiyin run` until its console prompt shows (import, config,
  jieba with its cache warm, classifier, schema, scheduler: ready for a message), median of 5 fresh
  processes on an existing ledger (target <= 1.5 s);
- peak RSS of this process and of the cold-start processes.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import jieba  # noqa: E402

from nlp.segment import raw_tokens  # noqa: E402
from nlp.weighted import WeightedClassifier  # noqa: E402
from settings import load_settings  # noqa: E402


def messages() -> list[str]:
    texts = []
    for path in sorted((REPO / "tests" / "data").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as file:
            texts.extend(row["text"] for row in csv.DictReader(file))
    return texts


def throughput(function, texts: list[str], repeat: int) -> float:
    """Messages per second of this process's CPU time (a busy neighbour's share of the core is not ours)."""
    start = time.process_time()
    for _ in range(repeat):
        for text in texts:
            function(text)
    return repeat * len(texts) / (time.process_time() - start)


def cold_start(runs: int = 5) -> list[float]:
    """Seconds from launching `huiyin run` until its console prompt is shown, i.e. ready for a message.

    Started as `make run` starts it: after `make bytecode` has compiled our modules.
    """
    subprocess.run(["make", "-s", "bytecode"], cwd=REPO, check=True)
    with tempfile.TemporaryDirectory() as directory:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{Path(directory) / 'huiyin.db'}"}
        command = [sys.executable, "-m", "bot.cli", "--config", str(REPO / "config.yaml"), "--env-file", os.devnull]
        times = []
        for _ in range(runs + 1):  # the first run warms jieba's cache and creates the ledger
            start = time.perf_counter()
            process = subprocess.Popen(
                [*command, "run"], cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            _read_until_prompt(process.stdout)
            times.append(time.perf_counter() - start)
            process.communicate("/退出\n".encode(), timeout=60)
    return times[1:]


def _read_until_prompt(stream) -> None:
    """Read the console's output up to its first input prompt (`[群名] 名字> `)."""
    seen = b""
    while not seen.endswith(b"> "):
        chunk = stream.read1(4096)
        if not chunk:
            raise RuntimeError(f"huiyin run ended before its prompt: {seen.decode(errors='replace')}")
        seen += chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    texts = messages()
    classifier = WeightedClassifier(load_settings(REPO / "config.yaml"))
    jieba.initialize()
    for text in texts:  # warm both paths (jieba's HMM caches, the lexicon's token cache)
        jieba.lcut(text)
        classifier.classify(text)

    # The machine is shared: the three are measured in interleaved rounds, and each ratio is the median
    # of the rounds' own ratios, so a round slowed by a neighbour is compared with its own neighbours.
    rounds = [
        (throughput(jieba.lcut, texts, args.repeat), throughput(raw_tokens, texts, args.repeat),
         throughput(classifier.classify, texts, args.repeat))
        for _ in range(args.rounds)
    ]  # fmt: skip
    raw, ours, full = (statistics.median(column) for column in zip(*rounds, strict=True))
    print(
        f"messages: {len(texts)} distinct × {args.repeat}, {args.rounds} interleaved rounds, CPU time, medians"
        f" (mean {statistics.mean(map(len, texts)):.1f} chars)"
    )
    print(f"raw jieba.lcut:      {raw:10.0f} msg/s   (jieba's defaults: full dictionary, HMM)")
    print(f"our segmentation:    {ours:10.0f} msg/s   (trimmed dictionary + community words, no HMM)")
    print(f"full classify():     {full:10.0f} msg/s")
    to_lcut = [classify / lcut for lcut, _, classify in rounds]
    print(f"ratio classify/lcut: {statistics.median(to_lcut):10.2f}   (target >= 0.7; rounds "
          f"{min(to_lcut):.2f}–{max(to_lcut):.2f})")
    added = statistics.median(classify / segment for _, segment, classify in rounds)
    print(f"ratio classify/our segmentation: {added:.2f}   (what classification adds to segmenting)")

    times = cold_start()
    print(
        f"cold start (`huiyin run` to its prompt, jieba cache warm): median {statistics.median(times):.2f} s"
        f"  (min {min(times):.2f}, max {max(times):.2f}; target <= 1.5 s)"
    )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: this benchmark {own:.0f} MB, a started huiyin {children:.0f} MB")


if __name__ == "__main__":
    main()
