"""The pinned python-wechaty stack installs and imports through our shim (the transport: test_wechaty_e2e)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(sys.version_info >= (3, 13), reason="python-wechaty 0.10 needs Python < 3.13")


def test_wechaty_imports_through_the_shim_in_a_fresh_interpreter() -> None:
    code = (
        "from bot.wechaty_transport.compat import load_wechaty\n"
        "w = load_wechaty()\n"
        "from importlib.metadata import version\n"
        "print(w.Wechaty.__name__, version('pyee').split('.')[0], version('urllib3').split('.')[0])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    name, pyee_major, urllib3_major = result.stdout.split()
    assert name == "Wechaty" and int(pyee_major) < 9 and int(urllib3_major) < 2


def test_without_the_shim_the_import_fails_on_this_python() -> None:
    """Proves the shim is still needed; if wechaty ever fixes this, the shim can go."""
    result = subprocess.run([sys.executable, "-c", "import wechaty"], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "mutable default" in result.stderr


def test_the_rest_of_huiyin_never_imports_wechaty() -> None:
    code = "import sys, bot.cli, bot.app, bot.console; print('wechaty' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr
