"""jieba on a fresh machine: the trimmed dictionary and its cache are built once, in a writable place."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nlp import segment

REPO = Path(__file__).resolve().parent.parent
LOAD = "from nlp import segment; print(segment.tokenizer().tmp_dir); print('/'.join(segment.tokens('飞线充电太危险')))"


def _start(env: dict[str, str]) -> list[str]:
    """A fresh interpreter that loads the tokenizer; returns what it printed (cache dir, a segmentation)."""
    clean = {k: v for k, v in os.environ.items() if k not in ("HUIYIN_CACHE_DIR", "XDG_CACHE_HOME")}
    done = subprocess.run(
        [sys.executable, "-c", LOAD], capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**clean, "PYTHONPATH": str(REPO), **env},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Dump cache file failed" not in done.stderr
    return done.stdout.split()


def test_a_fresh_cache_dir_is_created_filled_once_and_reused(tmp_path: Path) -> None:
    cache = tmp_path / "does" / "not" / "exist"
    directory, words = _start({"HUIYIN_CACHE_DIR": str(cache)})
    assert directory == str(cache)
    assert words == "飞线充电/太/危险"  # the user dictionary is loaded
    built = {path.name: path.stat().st_mtime_ns for path in cache.iterdir()}
    assert f"jieba-dict-min{segment.MIN_FREQUENCY}.txt" in built
    assert any(name.startswith("jieba.u") and name.endswith(".cache") for name in built)

    _start({"HUIYIN_CACHE_DIR": str(cache)})
    assert {path.name: path.stat().st_mtime_ns for path in cache.iterdir()} == built  # loaded, not rebuilt


def test_without_a_usable_cache_dir_the_temp_dir_is_used(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"HUIYIN_CACHE_DIR": str(blocker / "x"), "XDG_CACHE_HOME": str(blocker / "y"), "HOME": str(blocker),
           "TMPDIR": str(temp)}  # fmt: skip
    directory, words = _start(env)
    assert directory == str(temp)
    assert words == "飞线充电/太/危险"
    assert any(path.name.endswith(".cache") for path in temp.iterdir())


def test_a_broken_cache_is_rebuilt(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _start({"HUIYIN_CACHE_DIR": str(cache)})
    [cache_file] = [path for path in cache.iterdir() if path.name.endswith(".cache")]
    cache_file.write_bytes(b"garbage")
    _, words = _start({"HUIYIN_CACHE_DIR": str(cache)})
    assert words == "飞线充电/太/危险"
    assert cache_file.stat().st_size > 1_000_000


def test_keywords_become_single_tokens() -> None:
    segment.add_words(["楼道堆物测试词"])
    assert "楼道堆物测试词" in segment.tokens("三楼楼道堆物测试词很多")


def test_jieba_loads_without_pkg_resources_and_leaves_it_importable() -> None:
    code = (
        "import sys; from nlp import segment; print('pkg_resources' in sys.modules); "
        "import jieba._compat as compat; print(compat.get_module_res('dict.txt').readline().split()[0].decode()); "
        "print(sys.modules.get('pkg_resources', 'unblocked'))"  # not left as None, which would block it
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "AT&T", "unblocked"]
