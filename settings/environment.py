"""Deployment settings that differ per machine and may be secret, read from the environment or `.env`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

DEFAULT_DATABASE_URL = "sqlite:///data/huiyin.db"
DEFAULT_CONFIG_PATH = "config.yaml"


@dataclass(frozen=True)
class Environment:
    database_url: str
    config_path: Path
    puppet_token: str | None
    puppet_endpoint: str | None


def load_environment(env_file: str | Path | None = ".env") -> Environment:
    """Read the environment, first filling it from `env_file` if that exists (None: read no file).

    Variables already set win over the file, so a deployment can override `.env`. Empty values (as left
    by copying `.env.example`) count as unset.
    """
    if env_file is not None:
        load_dotenv(env_file, override=False)
    return Environment(
        database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        config_path=Path(os.environ.get("HUIYIN_CONFIG") or DEFAULT_CONFIG_PATH),
        puppet_token=os.environ.get("WECHATY_PUPPET_SERVICE_TOKEN") or None,
        puppet_endpoint=os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT") or None,
    )
