"""What the bodies of both endpoints share (MS-OXCMAPIHTTP 2.2.4, 2.2.5): the auxiliary buffer
tail, the failure body, and `BodyDef`, the registry entry of one X-RequestType."""

from __future__ import annotations

from dataclasses import dataclass

from construct import Construct, Int32ul

from .aux import AuxiliaryBuffer
from .core import sized_field, struct


def aux() -> tuple:
    """AuxiliaryBufferSize (4) + AuxiliaryBuffer: the tail of every body."""
    return sized_field("AuxiliaryBufferSize", Int32ul, "AuxiliaryBuffer", AuxiliaryBuffer)


def failure(ref: str) -> Construct:
    """The failure response body of every request type: StatusCode (non-zero) + aux."""
    return struct(ref, "StatusCode" / Int32ul, *aux())


@dataclass(frozen=True)
class BodyDef:
    """One X-RequestType: its endpoint, section, and request / success / failure bodies.
    A None body means the type has none (PING)."""

    request_type: str
    endpoint: str  # "emsmdb", "nspi" or "both"
    ref: str
    request: Construct | None
    success: Construct | None
    failure: Construct | None
