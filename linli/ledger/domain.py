"""Pure ledger rules: canonical row content, keyed hashes, Merkle trees and proofs, expiry arithmetic.

No database here; every function is unit-tested on its own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

HASH_VERSION = 1


def canonical(fields: Mapping[str, Any]) -> bytes:
    """The exact bytes a transfer's hash covers: sorted keys, no spaces, UTF-8, datetimes in ISO-8601 UTC."""

    def norm(value: Any) -> Any:
        if isinstance(value, datetime):
            return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return value

    body = {k: norm(v) for k, v in fields.items()}
    body["v"] = HASH_VERSION
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(key: bytes, fields: Mapping[str, Any]) -> str:
    """HMAC-SHA256 of the canonical content with the server's secret: only the server can forge it."""
    return hmac.new(key, canonical(fields), hashlib.sha256).hexdigest()


def request_fingerprint(fields: Mapping[str, Any]) -> str:
    """What an idempotent retry must repeat exactly: a plain hash of the request's business content."""
    return hashlib.sha256(canonical(fields)).hexdigest()


# --- Merkle trees (RFC 6962 style: leaves and nodes hashed with different prefixes) ---------------------------------


def _leaf(h: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + h).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def merkle_root(leaves: Sequence[str]) -> str:
    """Root over hex row hashes in the given (id) order; an odd node is carried up unchanged."""
    if not leaves:
        return EMPTY_ROOT
    level = [_leaf(bytes.fromhex(h)) for h in leaves]
    while len(level) > 1:
        nxt = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0].hex()


@dataclass(frozen=True)
class ProofStep:
    side: str  # "L": the sibling is on the left; "R": on the right
    hash: str


def merkle_proof(leaves: Sequence[str], index: int) -> list[ProofStep]:
    """The audit path proving leaves[index] is under merkle_root(leaves)."""
    if not 0 <= index < len(leaves):
        raise IndexError(index)
    level = [_leaf(bytes.fromhex(h)) for h in leaves]
    path: list[ProofStep] = []
    i = index
    while len(level) > 1:
        sibling = i ^ 1
        if sibling < len(level):
            path.append(ProofStep("L" if sibling < i else "R", level[sibling].hex()))
        nxt = [_node(level[k], level[k + 1]) for k in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
        i //= 2
    return path


def verify_proof(leaf: str, path: Sequence[ProofStep], root: str) -> bool:
    current = _leaf(bytes.fromhex(leaf))
    for step in path:
        sibling = bytes.fromhex(step.hash)
        current = _node(sibling, current) if step.side == "L" else _node(current, sibling)
    return current.hex() == root


# --- expiry (first in, first out) -----------------------------------------------------------------------------------


def expiring_amount(*, earned_until_cutoff: int, spent_so_far: int) -> int:
    """Points earned up to the cutoff that spending has not used yet.

    Spending always uses the oldest points first, so whatever was spent (including earlier expiries) came out of the
    oldest earnings; what is left of the earnings up to the cutoff is what expires now.
    """
    return max(0, earned_until_cutoff - spent_so_far)


def needs_second_approval(amount: int, threshold: int) -> bool:
    """Adjustments above the community's threshold (in absolute points) need a second staff member."""
    return threshold >= 0 and abs(amount) > threshold
