"""`huiyin check`: everything wrong with a config file, and everything worth a look, without starting the bot.

Nothing here opens the database or loads the classifier, so a secretary can run it after every edit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from settings import texts
from settings.loader import ConfigError, read_config_file, read_settings_text
from settings.rules import calendar_warnings, config_warnings


@dataclass(frozen=True)
class CheckResult:
    """Problem lines (`file:line: key: message`): errors stop the bot from starting, warnings do not."""

    errors: list[str]
    warnings: list[str]


def check_text(text: str, name: str = "config.yaml", today: dt.date | None = None) -> CheckResult:
    """Check configuration given as YAML text; warnings need well-formed values, so a file whose values
    cannot be read yet gets its errors only. `today` (default: the community's date now) decides which years'
    holidays must be known."""
    reading = read_settings_text(text, name)
    if reading.settings is None or reading.document is None:
        return CheckResult(reading.problems, [])
    today = today or dt.datetime.now(reading.settings.tz).date()
    warnings = [*config_warnings(reading.settings), *calendar_warnings(reading.settings, today)]
    return CheckResult(reading.problems, reading.document.report(warnings))


def check_file(path: str | Path) -> CheckResult:
    """Check the configuration file at `path`."""
    try:
        text = read_config_file(path)
    except ConfigError as error:
        return CheckResult(error.problems, [])
    return check_text(text, name=str(path))


def run_check(path: str | Path) -> int:
    """Print the check of `path` in Chinese; 0 when the bot can start with it (warnings allowed), 2 when not."""
    result = check_file(path)
    for heading, lines in ((texts.CHECK_ERRORS, result.errors), (texts.CHECK_WARNINGS, result.warnings)):
        if lines:
            print(heading)
            print("\n".join(lines))
    counts = {"path": path, "errors": len(result.errors), "warnings": len(result.warnings)}
    if result.errors:
        print(texts.CHECK_FAILED.format(**counts))
        return 2
    print((texts.CHECK_WARNED if result.warnings else texts.CHECK_PASSED).format(**counts))
    return 0
