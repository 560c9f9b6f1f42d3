"""The board's secrets, read from the environment (filled from `.env` by `settings.environment.load_environment`)."""

from __future__ import annotations

import os
from dataclasses import dataclass

LINK_SECRET_VARIABLE = "HUIYIN_BOARD_SECRET"
API_KEY_VARIABLE = "HUIYIN_OPEN311_API_KEY"


@dataclass(frozen=True)
class BoardSecrets:
    """`link_secret` signs cadres' 看板 links; `api_key` lets an Open311 client create requests.

    Either may be None: cadre links and Open311 POST are then refused, the public wall still works.
    """

    link_secret: str | None
    api_key: str | None


def board_secrets() -> BoardSecrets:
    return BoardSecrets(os.environ.get(LINK_SECRET_VARIABLE) or None, os.environ.get(API_KEY_VARIABLE) or None)
