"""Error codes and their names (MS-OXCDATA 2.4), as an Enum field for ReturnValue / ErrorCode."""

from __future__ import annotations

from construct import Int32ul

from .core import Enum

# MS-OXCDATA 2.4.1 and 2.4.2 (a subset until the generated table lands)
ERROR_CODES = {
    0x00000000: "ecNone",
    0x80004005: "ecError",
    0x80040102: "ecNotSupported",
    0x80040108: "ecInvalidObject",
    0x8004010E: "ecMAPIOOM",
    0x8004010F: "ecNotFound",
    0x80040110: "ecVersionMismatch",
    0x80040111: "ecLoginFailure",
    0x80040115: "ecRpcFailed",
    0x80070005: "ecAccessDenied",
    0x8007000E: "ecOutOfMemory",
    0x80070057: "ecInvalidParam",
    0x000004B6: "ecRpcFormat",
    0x00000478: "ecWrongServer",
    0x000004DF: "ecClientVerDisallowed",
    0x000003EB: "ecUnknownUser",
    0x000003F2: "ecLoginPerm",
    0x000007EE: "ecRejected",
    0x000003ED: "ecExiting",
    0x00040380: "ecWarnWithErrors",
}

ErrorCode = Enum(Int32ul, ERROR_CODES)
