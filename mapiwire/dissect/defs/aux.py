"""Auxiliary buffers: AUX_HEADER and the auxiliary blocks (MS-OXCRPC 2.2.2.2).

An auxiliary buffer is an extended buffer (RPC_HEADER_EXT + payload, MS-OXCRPC 3.1.4.1.1.1.1)
whose payload is a sequence of AUX_HEADER + block. Offset fields count from the start of the
AUX_HEADER; the strings they point at are read at their offsets (`OffsetString`).
"""

from __future__ import annotations

import io

import construct as c
from construct import Bytes, Int8ul, Int16ul, Int32ul, Construct

from .core import AsciiZ, Enum, Flags, Guid, UnicodeZ, build, remaining, struct
from .rpcext import ExtendedBuffer

AUX_VERSION = {0x01: "AUX_VERSION_1", 0x02: "AUX_VERSION_2"}

# MS-OXCRPC 2.2.2.2: names of the Type field (version 2 blocks reuse the version 1 numbers and names;
# which layout each (Version, Type) has is AUX_BLOCKS below)
AUX_TYPES = {
    0x01: "AUX_TYPE_PERF_REQUESTID", 0x02: "AUX_TYPE_PERF_CLIENTINFO", 0x03: "AUX_TYPE_PERF_SERVERINFO",
    0x04: "AUX_TYPE_PERF_SESSIONINFO", 0x05: "AUX_TYPE_PERF_DEFMDB_SUCCESS", 0x06: "AUX_TYPE_PERF_DEFGC_SUCCESS",
    0x07: "AUX_TYPE_PERF_MDB_SUCCESS", 0x08: "AUX_TYPE_PERF_GC_SUCCESS", 0x09: "AUX_TYPE_PERF_FAILURE",
    0x0A: "AUX_TYPE_CLIENT_CONTROL", 0x0B: "AUX_TYPE_PERF_PROCESSINFO", 0x0C: "AUX_TYPE_PERF_BG_DEFMDB_SUCCESS",
    0x0D: "AUX_TYPE_PERF_BG_DEFGC_SUCCESS", 0x0E: "AUX_TYPE_PERF_BG_MDB_SUCCESS", 0x0F: "AUX_TYPE_PERF_BG_GC_SUCCESS",
    0x10: "AUX_TYPE_PERF_BG_FAILURE", 0x11: "AUX_TYPE_PERF_FG_DEFMDB_SUCCESS", 0x12: "AUX_TYPE_PERF_FG_DEFGC_SUCCESS",
    0x13: "AUX_TYPE_PERF_FG_MDB_SUCCESS", 0x14: "AUX_TYPE_PERF_FG_GC_SUCCESS", 0x15: "AUX_TYPE_PERF_FG_FAILURE",
    0x16: "AUX_TYPE_OSVERSIONINFO", 0x17: "AUX_TYPE_EXORGINFO", 0x18: "AUX_TYPE_PERF_ACCOUNTINFO",
    0x46: "AUX_TYPE_SERVER_CAPABILITIES", 0x48: "AUX_TYPE_ENDPOINT_CAPABILITIES",
    0x4A: "AUX_TYPE_CLIENT_CONNECTION_INFO", 0x4B: "AUX_TYPE_SERVER_SESSION_INFO",
    0x4E: "AUX_TYPE_PROTOCOL_DEVICE_IDENTIFICATION",
}

AUX_HEADER = struct(
    "MS-OXCRPC 2.2.2.2 AUX_HEADER",
    "Size" / Int16ul,
    "Version" / Enum(Int8ul, AUX_VERSION),
    "Type" / Enum(Int8ul, AUX_TYPES),
)
AUX_HEADER_SIZE = 4


class OffsetString(Construct):
    """A null-terminated string stored at an offset from the start of the AUX_HEADER
    (MS-OXCRPC 2.2.2.2.x: "offset ... 0 if the field is not present"). Parsed from the block's
    bytes, which the enclosing `AuxBlock` hands over as `this._params.aux_block`; the
    position in the stream does not move. Build writes nothing: `AuxBlock` lays the strings
    out after the fixed part and fills the offsets."""

    def __init__(self, offset_field: str, unicode: bool = True, size_field: str | None = None):
        super().__init__()
        self.offset_field = offset_field
        self.size_field = size_field  # raw bytes of that size instead of a string
        self.unicode = unicode
        self.flagbuildnone = True

    def _parse(self, stream, context, path):
        offset = context[self.offset_field]
        if not offset:
            return None
        block = context._params.aux_block
        if offset < AUX_HEADER_SIZE or offset >= len(block):
            raise c.StreamError(f"{self.offset_field} {offset} points outside the {len(block)}-byte block", path=path)
        sub = io.BytesIO(block)
        sub.seek(offset)
        if self.size_field:
            size = context[self.size_field]
            if offset + size > len(block):
                raise c.StreamError(f"{self.size_field} {size} runs past the block", path=path)
            return sub.read(size)
        return (UnicodeZ if self.unicode else AsciiZ)._parsereport(sub, context, path)

    def _build(self, obj, stream, context, path):
        return obj

    def encode(self, obj) -> bytes:
        if obj is None:
            return b""
        if self.size_field:
            return bytes.fromhex(obj) if isinstance(obj, str) else bytes(obj)
        return build(UnicodeZ if self.unicode else AsciiZ, obj)


# 2.2.2.2.1 .. 2.2.2.2.23 --------------------------------------------------------------------

AUX_PERF_REQUESTID = struct(
    "MS-OXCRPC 2.2.2.2.1 AUX_PERF_REQUESTID",
    "SessionID" / Int16ul, "RequestID" / Int16ul)

AUX_PERF_SESSIONINFO = struct(
    "MS-OXCRPC 2.2.2.2.2 AUX_PERF_SESSIONINFO",
    "SessionID" / Int16ul, "Reserved" / Int16ul, "SessionGuid" / Guid)

AUX_PERF_SESSIONINFO_V2 = struct(
    "MS-OXCRPC 2.2.2.2.3 AUX_PERF_SESSIONINFO_V2",
    "SessionID" / Int16ul, "Reserved" / Int16ul, "SessionGuid" / Guid, "ConnectionID" / Int32ul)

CLIENT_MODES = {0x00: "CLIENTMODE_UNKNOWN", 0x01: "CLIENTMODE_CLASSIC", 0x02: "CLIENTMODE_CACHED"}

AUX_PERF_CLIENTINFO = struct(
    "MS-OXCRPC 2.2.2.2.4 AUX_PERF_CLIENTINFO",
    "AdapterSpeed" / Int32ul, "ClientID" / Int16ul, "MachineNameOffset" / Int16ul, "UserNameOffset" / Int16ul,
    "ClientIPSize" / Int16ul, "ClientIPOffset" / Int16ul, "ClientIPMaskSize" / Int16ul,
    "ClientIPMaskOffset" / Int16ul, "AdapterNameOffset" / Int16ul, "MacAddressSize" / Int16ul,
    "MacAddressOffset" / Int16ul, "ClientMode" / Enum(Int16ul, CLIENT_MODES), "Reserved" / Int16ul,
    "MachineName" / OffsetString("MachineNameOffset"),
    "UserName" / OffsetString("UserNameOffset"),
    "ClientIP" / OffsetString("ClientIPOffset", size_field="ClientIPSize"),
    "ClientIPMask" / OffsetString("ClientIPMaskOffset", size_field="ClientIPMaskSize"),
    "AdapterName" / OffsetString("AdapterNameOffset"),
    "MacAddress" / OffsetString("MacAddressOffset", size_field="MacAddressSize"),
)

SERVER_TYPES = {0x00: "SERVERTYPE_UNKNOWN", 0x01: "SERVERTYPE_PRIVATE", 0x02: "SERVERTYPE_PUBLIC",
                0x03: "SERVERTYPE_DIRECTORY", 0x04: "SERVERTYPE_REFERRAL"}

AUX_PERF_SERVERINFO = struct(
    "MS-OXCRPC 2.2.2.2.5 AUX_PERF_SERVERINFO",
    "ServerID" / Int16ul, "ServerType" / Enum(Int16ul, SERVER_TYPES), "ServerDNOffset" / Int16ul,
    "ServerNameOffset" / Int16ul,
    "ServerDN" / OffsetString("ServerDNOffset"),
    "ServerName" / OffsetString("ServerNameOffset"),
)

AUX_PERF_PROCESSINFO = struct(
    "MS-OXCRPC 2.2.2.2.6 AUX_PERF_PROCESSINFO",
    "ProcessID" / Int16ul, "Reserved_1" / Int16ul, "ProcessGuid" / Guid, "ProcessNameOffset" / Int16ul,
    "Reserved_2" / Int16ul,
    "ProcessName" / OffsetString("ProcessNameOffset"),
)

AUX_PERF_DEFMDB_SUCCESS = struct(
    "MS-OXCRPC 2.2.2.2.7 AUX_PERF_DEFMDB_SUCCESS",
    "TimeSinceRequest" / Int32ul, "TimeToCompleteRequest" / Int32ul, "RequestID" / Int16ul, "Reserved" / Int16ul)

AUX_PERF_DEFGC_SUCCESS = struct(
    "MS-OXCRPC 2.2.2.2.8 AUX_PERF_DEFGC_SUCCESS",
    "ServerID" / Int16ul, "SessionID" / Int16ul, "TimeSinceRequest" / Int32ul, "TimeToCompleteRequest" / Int32ul,
    "RequestOperation" / Int8ul, "Reserved" / Bytes(3))

AUX_PERF_MDB_SUCCESS = struct(
    "MS-OXCRPC 2.2.2.2.9 AUX_PERF_MDB_SUCCESS",
    "ClientID" / Int16ul, "ServerID" / Int16ul, "SessionID" / Int16ul, "RequestID" / Int16ul,
    "TimeSinceRequest" / Int32ul, "TimeToCompleteRequest" / Int32ul)

AUX_PERF_MDB_SUCCESS_V2 = struct(
    "MS-OXCRPC 2.2.2.2.10 AUX_PERF_MDB_SUCCESS_V2",
    "ProcessID" / Int16ul, "ClientID" / Int16ul, "ServerID" / Int16ul, "SessionID" / Int16ul,
    "RequestID" / Int16ul, "Reserved" / Int16ul, "TimeSinceRequest" / Int32ul, "TimeToCompleteRequest" / Int32ul)

AUX_PERF_GC_SUCCESS = struct(
    "MS-OXCRPC 2.2.2.2.11 AUX_PERF_GC_SUCCESS",
    "ClientID" / Int16ul, "ServerID" / Int16ul, "SessionID" / Int16ul, "Reserved_1" / Int16ul,
    "TimeSinceRequest" / Int32ul, "TimeToCompleteRequest" / Int32ul, "RequestOperation" / Int8ul,
    "Reserved_2" / Bytes(3))

AUX_PERF_GC_SUCCESS_V2 = struct(
    "MS-OXCRPC 2.2.2.2.12 AUX_PERF_GC_SUCCESS_V2",
    "ProcessID" / Int16ul, "ClientID" / Int16ul, "ServerID" / Int16ul, "SessionID" / Int16ul,
    "TimeSinceRequest" / Int32ul, "TimeToCompleteRequest" / Int32ul, "RequestOperation" / Int8ul,
    "Reserved" / Bytes(3))

AUX_PERF_FAILURE = struct(
    "MS-OXCRPC 2.2.2.2.13 AUX_PERF_FAILURE",
    "ClientID" / Int16ul, "ServerID" / Int16ul, "SessionID" / Int16ul, "RequestID" / Int16ul,
    "TimeSinceRequest" / Int32ul, "TimeToFailRequest" / Int32ul, "ResultCode" / Int32ul,
    "RequestOperation" / Int8ul, "Reserved" / Bytes(3))

AUX_PERF_FAILURE_V2 = struct(
    "MS-OXCRPC 2.2.2.2.14 AUX_PERF_FAILURE_V2",
    "ProcessID" / Int16ul, "ClientID" / Int16ul, "ServerID" / Int16ul, "SessionID" / Int16ul,
    "RequestID" / Int16ul, "Reserved_1" / Int16ul, "TimeSinceRequest" / Int32ul, "TimeToFailRequest" / Int32ul,
    "ResultCode" / Int32ul, "RequestOperation" / Int8ul, "Reserved_2" / Bytes(3))

CLIENT_CONTROL_FLAGS = {"ENABLE_PERF_SENDTOSERVER": 0x01, "ENABLE_PERF_SENDTOMAILBOX": 0x02,
                        "ENABLE_COMPRESSION": 0x04, "ENABLE_HTTP_TUNNELING": 0x08, "ENABLE_PERF_SENDGCDATA": 0x10}

AUX_CLIENT_CONTROL = struct(
    "MS-OXCRPC 2.2.2.2.15 AUX_CLIENT_CONTROL",
    "EnableFlags" / Flags(Int32ul, CLIENT_CONTROL_FLAGS), "ExpiryTime" / Int32ul)

AUX_OSVERSIONINFO = struct(
    "MS-OXCRPC 2.2.2.2.16 AUX_OSVERSIONINFO",
    "OSVersionInfoSize" / Int32ul, "MajorVersion" / Int32ul, "MinorVersion" / Int32ul, "BuildNumber" / Int32ul,
    "Reserved1" / Bytes(132), "ServicePackMajor" / Int16ul, "ServicePackMinor" / Int16ul, "Reserved2" / Int32ul)

AUX_EXORGINFO = struct(
    "MS-OXCRPC 2.2.2.2.17 AUX_EXORGINFO",
    "OrgFlags" / Flags(Int32ul, {"PUBLIC_FOLDERS_ENABLED": 0x1, "USE_AUTODISCOVER_FOR_PUBLIC_FOLDER_CONFIGURATION": 0x2}))

AUX_PERF_ACCOUNTINFO = struct(
    "MS-OXCRPC 2.2.2.2.18 AUX_PERF_ACCOUNTINFO",
    "ClientID" / Int16ul, "Reserved" / Int16ul, "Account" / Guid)

AUX_SERVER_CAPABILITIES = struct(
    "MS-OXCRPC 2.2.2.2.19 AUX_SERVER_CAPABILITIES",
    "ServerCapabilityFlags" / Flags(Int32ul, {"SERVERCAP_PACKEDFASTTRANSFERUPLOADBUFFERS": 0x1,
                                              "SERVERCAP_PACKEDWRITESTREAMUPLOADBUFFERS": 0x2,
                                              "SERVERCAP_ULTRALARGEPACKEDDOWNLOADBUFFERS": 0x8}))

AUX_ENDPOINT_CAPABILITIES = struct(
    "MS-OXCRPC 2.2.2.2.20 AUX_ENDPOINT_CAPABILITIES",
    "EndpointCapabilityFlag" / Flags(Int32ul, {"ENDPOINT_CAPABILITIES_SINGLE_ENDPOINT": 0x1}))

AUX_CLIENT_CONNECTION_INFO = struct(
    "MS-OXCRPC 2.2.2.2.21 AUX_CLIENT_CONNECTION_INFO",
    "ConnectionGUID" / Guid, "OffsetConnectionContextInfo" / Int16ul, "Reserved" / Int16ul,
    "ConnectionAttempts" / Int32ul,
    "ConnectionFlags" / Flags(Int32ul, {"CLIENTCONNECTIONFLAGS_CACHED_MODE": 0x1}),
    "ConnectionContextInfo" / OffsetString("OffsetConnectionContextInfo"),
)

AUX_SERVER_SESSION_INFO = struct(
    "MS-OXCRPC 2.2.2.2.22 AUX_SERVER_SESSION_INFO",
    "OffsetServerSessionContextInfo" / Int16ul,
    "ServerSessionContextInfo" / OffsetString("OffsetServerSessionContextInfo"),
)

AUX_PROTOCOL_DEVICE_IDENTIFICATION = struct(
    "MS-OXCRPC 2.2.2.2.23 AUX_PROTOCOL_DEVICE_IDENTIFICATION",
    "DeviceManufacturerOffset" / Int16ul, "DeviceModelOffset" / Int16ul, "DeviceSerialNumberOffset" / Int16ul,
    "DeviceVersionOffset" / Int16ul, "DeviceFirmwareVersionOffset" / Int16ul,
    "DeviceManufacturer" / OffsetString("DeviceManufacturerOffset"),
    "DeviceModel" / OffsetString("DeviceModelOffset"),
    "DeviceSerialNumber" / OffsetString("DeviceSerialNumberOffset"),
    "DeviceVersion" / OffsetString("DeviceVersionOffset"),
    "DeviceFirmwareVersion" / OffsetString("DeviceFirmwareVersionOffset"),
)

# (Version, Type) -> (block name, definition). MS-OXCRPC 2.2.2.2 table.
AUX_BLOCKS: dict[tuple[int, int], tuple[str, Construct]] = {
    (1, 0x01): ("AUX_PERF_REQUESTID", AUX_PERF_REQUESTID),
    (1, 0x02): ("AUX_PERF_CLIENTINFO", AUX_PERF_CLIENTINFO),
    (1, 0x03): ("AUX_PERF_SERVERINFO", AUX_PERF_SERVERINFO),
    (1, 0x04): ("AUX_PERF_SESSIONINFO", AUX_PERF_SESSIONINFO),
    (2, 0x04): ("AUX_PERF_SESSIONINFO_V2", AUX_PERF_SESSIONINFO_V2),
    (1, 0x0A): ("AUX_CLIENT_CONTROL", AUX_CLIENT_CONTROL),
    (1, 0x0B): ("AUX_PERF_PROCESSINFO", AUX_PERF_PROCESSINFO),
    (2, 0x0B): ("AUX_PERF_PROCESSINFO", AUX_PERF_PROCESSINFO),
    (1, 0x16): ("AUX_OSVERSIONINFO", AUX_OSVERSIONINFO),
    (1, 0x17): ("AUX_EXORGINFO", AUX_EXORGINFO),
    (1, 0x18): ("AUX_PERF_ACCOUNTINFO", AUX_PERF_ACCOUNTINFO),
    (1, 0x46): ("AUX_SERVER_CAPABILITIES", AUX_SERVER_CAPABILITIES),
    (1, 0x48): ("AUX_ENDPOINT_CAPABILITIES", AUX_ENDPOINT_CAPABILITIES),
    (1, 0x4A): ("AUX_CLIENT_CONNECTION_INFO", AUX_CLIENT_CONNECTION_INFO),
    (1, 0x4B): ("AUX_SERVER_SESSION_INFO", AUX_SERVER_SESSION_INFO),
    (1, 0x4E): ("AUX_PROTOCOL_DEVICE_IDENTIFICATION", AUX_PROTOCOL_DEVICE_IDENTIFICATION),
}
# the plain / background / foreground variants share one layout per kind
for _base, _name, _v1, _v2 in (
        ((0x05, 0x0C, 0x11), "AUX_PERF_DEFMDB_SUCCESS", AUX_PERF_DEFMDB_SUCCESS, None),
        ((0x06, 0x0D, 0x12), "AUX_PERF_DEFGC_SUCCESS", AUX_PERF_DEFGC_SUCCESS, None),
        ((0x07, 0x0E, 0x13), "AUX_PERF_MDB_SUCCESS", AUX_PERF_MDB_SUCCESS, AUX_PERF_MDB_SUCCESS_V2),
        ((0x08, 0x0F, 0x14), "AUX_PERF_GC_SUCCESS", AUX_PERF_GC_SUCCESS, AUX_PERF_GC_SUCCESS_V2),
        ((0x09, 0x10, 0x15), "AUX_PERF_FAILURE", AUX_PERF_FAILURE, AUX_PERF_FAILURE_V2)):
    for _type in _base:
        AUX_BLOCKS[(1, _type)] = (_name, _v1)
        if _v2 is not None:
            AUX_BLOCKS[(2, _type)] = (_name + "_V2", _v2)


class AuxBlock(Construct):
    """AUX_HEADER and the block its (Version, Type) selects, bounded by AUX_HEADER.Size.
    An unknown (Version, Type) is skipped by Size as MS-OXCRPC 3.1.4.1.2 requires (kept as hex).
    Value: `{"AUX_HEADER": {...}, "<block name>": {...}}`."""

    def __init__(self):
        super().__init__()
        self.header = AUX_HEADER  # the definitions it reads (the fast path swaps in its own, fastgen.py)
        self.blocks = AUX_BLOCKS

    def _parse(self, stream, context, path):
        start = stream.tell()
        header = self.header._parsereport(stream, context, path)
        if header.Size < AUX_HEADER_SIZE or header.Size - AUX_HEADER_SIZE > remaining(stream):
            raise c.StreamError(f"AUX_HEADER.Size {header.Size} does not fit the {remaining(stream) + 4} bytes left", path=path)
        body = stream.read(header.Size - AUX_HEADER_SIZE)
        name, definition = self.blocks.get((int(header.Version), int(header.Type)), (None, None))
        if definition is None:
            return c.Container(AUX_HEADER=header, Unknown=body)
        stream.seek(start)
        block_bytes = stream.read(header.Size)
        saved = context._params.get("aux_block")
        context._params.aux_block = block_bytes
        try:
            sub = io.BytesIO(body)
            value = definition._parsereport(sub, context, f"{path} -> {name}")
        finally:
            context._params.aux_block = saved
        return c.Container(AUX_HEADER=header, **{name: value})

    def _build(self, obj, stream, context, path):
        header = obj["AUX_HEADER"]
        names = [k for k in obj if k not in ("AUX_HEADER",) and not k.startswith("_")]
        if names == ["Unknown"]:
            body = bytes.fromhex(obj["Unknown"]) if isinstance(obj["Unknown"], str) else bytes(obj["Unknown"])
        else:
            (name,) = names
            definition = next(d for (n, d) in AUX_BLOCKS.values() if n == name)
            body = build_block(definition, obj[name])
        AUX_HEADER._build(dict(Size=len(body) + AUX_HEADER_SIZE, Version=header["Version"], Type=header["Type"]),
                          stream, context, path)
        stream.write(body)
        return obj


def build_block(definition, value) -> bytes:
    """Fixed part, then the offset strings one after another, with their offsets filled."""
    value = dict(value)
    fixed_size = sum(sc.sizeof() for sc in definition.subcons if not isinstance(_inner(sc), OffsetString))
    cursor = AUX_HEADER_SIZE + fixed_size
    tail = b""
    for sc in definition.subcons:
        inner = _inner(sc)
        if isinstance(inner, OffsetString):
            data = inner.encode(value.get(sc.name))
            value[inner.offset_field] = cursor if data else 0
            if inner.size_field:
                value[inner.size_field] = len(data)
            cursor += len(data)
            tail += data
    return build(definition, value) + tail


def _inner(sc):
    return sc.subcon if isinstance(sc, c.Renamed) else sc


class AuxBlocks(Construct):
    """The auxiliary payload: AUX_HEADER + block, repeated to the end of the payload."""

    def __init__(self):
        super().__init__()
        self.block = AUX_BLOCK

    def _parse(self, stream, context, path):
        blocks = c.ListContainer()
        while remaining(stream):
            blocks.append(self.block._parsereport(stream, context, f"{path} -> [{len(blocks)}]"))
        return c.Container(Blocks=blocks)

    def _build(self, obj, stream, context, path):
        for block in obj["Blocks"]:
            AUX_BLOCK._build(block, stream, context, path)
        return obj


AUX_BLOCK = AuxBlock()

# MS-OXCRPC 3.1.4.1.1.1.1/2: rgbAuxIn / rgbAuxOut = RPC_HEADER_EXT (Last) + AUX_HEADER blocks.
# Appendix A <2> of MS-OXCMAPIHTTP: some servers send failure aux data without the header.
AuxiliaryBuffer = ExtendedBuffer(AuxBlocks(), optional=True)
