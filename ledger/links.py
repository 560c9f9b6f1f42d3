"""Signed, expiring links to the cadre view: no passwords to manage, and a leaked link dies by itself.

A token is `base64url(cadre_id|expiry) . base64url(HMAC-SHA256(secret, payload))`, expiry in Unix
seconds. Checking needs only the secret and the time, so the bot that signs and the board that
checks share nothing but `HUIYIN_BOARD_SECRET`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum


class LinkProblem(StrEnum):
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"


@dataclass(frozen=True)
class CadreLink:
    cadre_id: str
    expires_at: dt.datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).digest()


def sign_link(secret: str, cadre_id: str, expires_at: dt.datetime) -> str:
    """The token for `cadre_id`, valid until `expires_at` (aware)."""
    payload = f"{cadre_id}|{int(expires_at.timestamp())}".encode()
    return f"{_b64(payload)}.{_b64(_signature(secret, payload))}"


def check_link(secret: str, token: str, now: dt.datetime) -> CadreLink | LinkProblem:
    """The cadre a token was signed for, or why it is refused. The signature is checked before anything else."""
    encoded_payload, _, encoded_signature = token.partition(".")
    try:
        payload = _unb64(encoded_payload)
        signature = _unb64(encoded_signature)
    except (binascii.Error, ValueError):
        return LinkProblem.MALFORMED
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        return LinkProblem.BAD_SIGNATURE
    cadre_id, _, expiry = payload.decode("utf-8", "replace").rpartition("|")
    if not cadre_id or not expiry.isdigit():
        return LinkProblem.MALFORMED
    expires_at = dt.datetime.fromtimestamp(int(expiry), dt.UTC)
    if now >= expires_at:
        return LinkProblem.EXPIRED
    return CadreLink(cadre_id, expires_at)
