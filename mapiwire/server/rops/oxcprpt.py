"""MS-OXCPRPT handlers: property ROPs (MS-OXCROPS 2.2.8) and stream ROPs (2.2.9).

Properties are read through `objects.View` (stored plus computed) and written to the object's
own `Props`: a folder's at once, a message's or attachment's working copy until it is saved.
"""

from __future__ import annotations

import uuid

from ..store import MISSING, PT_BINARY, PT_STRING8, PT_UNICODE, STRING_TYPES
from ...dissect.defs.oxcdata import tag_container, tag_value
from .base import (EC_ACCESS_DENIED, EC_INVALID_PARAM, EC_MAPI_OOM, EC_NOT_FOUND, EC_NOT_SUPPORTED,
                   EC_STREAM_SIZE_ERROR, EC_TOO_BIG, EC_WARN_WITH_ERRORS, OutOfRoom, RopError, handler)
from .objects import (AttachmentObject, FolderObject, LogonObject, MessageObject, StreamObject, stream_bytes,
                      stream_value, view_of)
from .tables import property_row, variable_size

PS_MAPI = uuid.UUID("00020328-0000-0000-C000-000000000046")  # MS-OXPROPS 1.3.2: names of tagged properties
CREATE_NAMES = 0x02  # MS-OXCPRPT 2.2.12.1 Flags
NO_STRINGS, NO_IDS = 0x01, 0x02  # MS-OXCPRPT 2.2.9.1 QueryFlags
DEFAULT_SIZE_LIMIT = 0x8000  # PropertySizeLimit 0: the server's own limit (MS-OXCPRPT 3.2.5.1)
PT_ERROR = 0x000A
READ_ONLY, READ_WRITE, CREATE = 0x00, 0x01, 0x02  # MS-OXCPRPT 2.2.14.1 OpenModeFlags
SEEK_BEGINNING, SEEK_CURRENT, SEEK_END = 0x00, 0x01, 0x02  # MS-OXCPRPT 2.2.21.1 Origin
BABE = 0xBABE  # MS-OXCROPS 2.2.9.2.1: MaximumByteCount follows
READ_STREAM_HEADER = 8  # RopId, InputHandleIndex, ReturnValue, DataSize
MAX_READ = 0xFFF0
MAX_PROPERTIES = 1024  # per object: memory stays bounded


def _view(session, ctx, rop, field: str = "InputHandleIndex"):
    obj = session.get(ctx, rop, field)
    view = view_of(obj)
    if view is None:
        raise RopError(EC_NOT_SUPPORTED)
    return obj, view


def _writable(obj) -> None:
    if isinstance(obj, LogonObject) or (isinstance(obj, (MessageObject, AttachmentObject)) and not obj.writable):
        raise RopError(EC_ACCESS_DENIED)


def _mailbox(obj):
    """The mailbox whose named-property map an object uses; objects without properties have none."""
    if isinstance(obj, AttachmentObject):
        return obj.parent.mailbox
    if isinstance(obj, (LogonObject, FolderObject, MessageObject)):
        return obj.mailbox
    raise RopError(EC_NOT_SUPPORTED)


# Named properties ------------------------------------------------------------------------------------

@handler(0x56)
def rop_get_property_ids_from_names(session, rop, ctx) -> dict:
    """MS-OXCPRPT 2.2.12 RopGetPropertyIdsFromNames: ids from 0x8000 per mailbox, created with
    Flags 0x02; PS_MAPI LID names map to their LID; an unmapped name gets 0 and the answer
    ecWarnWithErrors (2.2.12.2). No names asks for every registered named property (2.2.12.2)."""
    obj = session.get(ctx, rop)
    mailbox = _mailbox(obj)
    if not rop["PropertyNames"]:
        return {"PropertyIds": list(mailbox.named_names)}
    create = bool(int(rop["Flags"]) & CREATE_NAMES)
    ids = []
    for name in rop["PropertyNames"]:
        if uuid.UUID(str(name["GUID"]).strip("{}")) == PS_MAPI:
            ids.append(int(name["LID"]) if int(name["Kind"]) == 0x00 and int(name["LID"]) < 0x8000 else 0)
        else:
            ids.append(mailbox.named_id(name, create))
    answer = {"PropertyIds": ids}
    if 0 in ids:
        answer["ReturnValue"] = EC_WARN_WITH_ERRORS
    return answer


@handler(0x55)
def rop_get_names_from_property_ids(session, rop, ctx) -> dict:
    """MS-OXCPRPT 3.2.5.9 RopGetNamesFromPropertyIds: ids below 0x8000 are PS_MAPI names with
    that LID; an id with no name gets Kind 0xFF (MS-OXCDATA 2.6.1)."""
    mailbox = _mailbox(session.get(ctx, rop))
    names = []
    for prop_id in rop["PropertyIds"]:
        prop_id = int(prop_id)
        if prop_id < 0x8000:
            names.append({"Kind": 0x00, "GUID": PS_MAPI, "LID": prop_id})
        else:
            names.append(mailbox.named_names.get(prop_id, {"Kind": 0xFF, "GUID": uuid.UUID(int=0)}))
    return {"PropertyNames": names}


@handler(0x5F)
def rop_query_named_properties(session, rop, ctx) -> dict:
    """MS-OXCPRPT 2.2.9 RopQueryNamedProperties: the mailbox's named properties, optionally
    of one property set, without string or LID names as QueryFlags ask."""
    mailbox = _mailbox(session.get(ctx, rop))
    flags = int(rop["QueryFlags"])
    wanted = uuid.UUID(str(rop["PropertyGuid"]).strip("{}")) if rop["HasGuid"] else None
    ids, names = [], []
    for prop_id, name in mailbox.named_names.items():
        if (flags & NO_STRINGS and name["Kind"] == 0x01) or (flags & NO_IDS and name["Kind"] == 0x00):
            continue
        if wanted is not None and uuid.UUID(str(name["GUID"]).strip("{}")) != wanted:
            continue
        ids.append(prop_id)
        names.append(name)
    return {"PropertyIds": ids, "PropertyNames": names}


# Reading and writing -------------------------------------------------------------------------------

@handler(0x07)
def rop_get_properties_specific(session, rop, ctx) -> dict:
    """MS-OXCPRPT 3.2.5.1 RopGetPropertiesSpecific: the values in the order asked; a missing one,
    or one over PropertySizeLimit (ecMAPIOOM), makes the row a FlaggedPropertyRow. PtypUnspecified
    tags get strings as String8 unless WantUnicode."""
    _, view = _view(session, ctx, rop)
    tags = [tag_value(t) for t in rop["PropertyTags"]]
    rop["_columns"] = rop["PropertyTags"]
    limit = int(rop["PropertySizeLimit"]) or DEFAULT_SIZE_LIMIT
    return {"RowData": property_row(view, tags, limit, unicode=bool(int(rop["WantUnicode"])))}


@handler(0x08)
def rop_get_properties_all(session, rop, ctx) -> dict:
    """MS-OXCPRPT 3.2.5.2 RopGetPropertiesAll: every property; one over the size limit is given
    as a PtypErrorCode value ecMAPIOOM; strings as String8 unless WantUnicode."""
    _, view = _view(session, ctx, rop)
    limit = int(rop["PropertySizeLimit"]) or DEFAULT_SIZE_LIMIT
    values = []
    for tag in view.tags():
        ptype = tag & 0xFFFF
        if ptype == PT_UNICODE and not int(rop["WantUnicode"]):
            tag, ptype = (tag & 0xFFFF0000) | PT_STRING8, PT_STRING8
        value = view.get(tag)
        if value is MISSING or ptype == 0x000D:
            continue
        if variable_size(tag, value) > limit:
            tag, value = (tag & 0xFFFF0000) | PT_ERROR, EC_MAPI_OOM
        values.append({"PropertyTag": tag_container(tag), "PropertyValue": value})
    return {"PropertyValues": values}


@handler(0x09)
def rop_get_properties_list(session, rop, ctx) -> dict:
    """MS-OXCPRPT 3.2.5.3 RopGetPropertiesList: the tags of every property the object has."""
    _, view = _view(session, ctx, rop)
    return {"PropertyTags": [tag_container(t) for t in view.tags()]}


def _set_properties(session, rop, ctx) -> dict:
    obj, view = _view(session, ctx, rop)
    _writable(obj)
    problems = []
    for index, item in enumerate(rop["PropertyValues"]):
        tag = tag_value(item["PropertyTag"])
        if tag & 0xFFFF in (0x0000, PT_ERROR, 0x000D):
            problems.append({"Index": index, "PropertyTag": item["PropertyTag"], "ErrorCode": EC_INVALID_PARAM})
            continue
        if variable_size(tag, item["PropertyValue"]) > session.max_stream or (
                len(view.props.values) >= MAX_PROPERTIES and tag >> 16 not in view.props.values):
            problems.append({"Index": index, "PropertyTag": item["PropertyTag"], "ErrorCode": EC_TOO_BIG})
            continue
        view.props.set(tag, item["PropertyValue"])
    return {"PropertyProblems": problems}


@handler(0x0A)
def rop_set_properties(session, rop, ctx) -> dict:
    """MS-OXCPRPT 3.2.5.4 RopSetProperties: values the object cannot take are PropertyProblems."""
    return _set_properties(session, rop, ctx)


@handler(0x79)
def rop_set_properties_no_replicate(session, rop, ctx) -> dict:
    """MS-OXCPRPT 3.2.5.5 RopSetPropertiesNoReplicate: as RopSetProperties (nothing replicates here)."""
    return _set_properties(session, rop, ctx)


def _delete_properties(session, rop, ctx) -> dict:
    obj, view = _view(session, ctx, rop)
    _writable(obj)
    for tag in rop["PropertyTags"]:
        view.props.delete(tag_value(tag))
    return {"PropertyProblems": []}


@handler(0x0B)
def rop_delete_properties(session, rop, ctx) -> dict:
    """MS-OXCPRPT 3.2.5.6 RopDeleteProperties: deleting an absent property is no problem."""
    return _delete_properties(session, rop, ctx)


@handler(0x7A)
def rop_delete_properties_no_replicate(session, rop, ctx) -> dict:
    """MS-OXCPRPT 3.2.5.7 RopDeletePropertiesNoReplicate: as RopDeleteProperties."""
    return _delete_properties(session, rop, ctx)


# Streams -------------------------------------------------------------------------------------------

@handler(0x2B)
def rop_open_stream(session, rop, ctx) -> dict:
    """MS-OXCPRPT 2.2.14 RopOpenStream: a binary or string property as a stream; ReadOnly on an
    absent property is ecNotFound, ReadWrite/Create start empty; writing needs a writable object."""
    obj, view = _view(session, ctx, rop)
    tag = tag_value(rop["PropertyTag"])
    ptype = tag & 0xFFFF
    if ptype not in (PT_BINARY, *STRING_TYPES):
        raise RopError(EC_NOT_SUPPORTED)
    mode = int(rop["OpenModeFlags"])
    if mode not in (READ_ONLY, READ_WRITE, CREATE):
        raise RopError(EC_INVALID_PARAM)
    if mode != READ_ONLY:
        _writable(obj)
    value = view.get(tag)
    if value is MISSING and mode == READ_ONLY:
        raise RopError(EC_NOT_FOUND)
    data = bytearray() if value is MISSING or mode == CREATE else bytearray(stream_bytes(value, ptype))
    session.put(ctx, rop, StreamObject(obj, tag, data, writable=mode != READ_ONLY))
    return {"StreamSize": len(data)}


def _stream(session, ctx, rop) -> StreamObject:
    return session.get(ctx, rop, kind=StreamObject)


@handler(0x2C)
def rop_read_stream(session, rop, ctx) -> dict:
    """MS-OXCPRPT 2.2.15 RopReadStream: up to ByteCount bytes (MaximumByteCount with 0xBABE)
    from the position, as many as fit the response buffer."""
    stream = _stream(session, ctx, rop)
    count = int(rop["ByteCount"])
    if count == BABE:
        count = int(rop["MaximumByteCount"])
    available = max(0, len(stream.data) - stream.position)
    count = min(count, available, MAX_READ, max(0, ctx.room - READ_STREAM_HEADER))
    if count == 0 and available and int(rop["ByteCount"]):
        raise OutOfRoom(READ_STREAM_HEADER + min(available, MAX_READ))
    data = bytes(stream.data[stream.position:stream.position + count])
    stream.position += len(data)
    return {"Data": data}


@handler(0x2D)
def rop_write_stream(session, rop, ctx) -> dict:
    """MS-OXCPRPT 2.2.16 RopWriteStream: at the position; past the size limit ecStreamSizeError."""
    return _write(_stream(session, ctx, rop), rop, session)


@handler(0xA3)
def rop_write_stream_extended(session, rop, ctx) -> dict:
    """MS-OXCPRPT 2.2.17 RopWriteStreamExtended: as RopWriteStream, with a 32-bit WrittenSize."""
    return _write(_stream(session, ctx, rop), rop, session)


@handler(0x90)
def rop_write_and_commit_stream(session, rop, ctx) -> dict:
    """MS-OXCPRPT 2.2.26 RopWriteAndCommitStream: RopWriteStream then RopCommitStream."""
    stream = _stream(session, ctx, rop)
    answer = _write(stream, rop, session)
    commit_stream(stream)
    return answer


def _write(stream: StreamObject, rop, session) -> dict:
    if not stream.writable:
        raise RopError(EC_ACCESS_DENIED)
    data = bytes(rop["Data"])
    end = stream.position + len(data)
    if end > session.max_stream:
        raise RopError(EC_STREAM_SIZE_ERROR)
    if stream.position > len(stream.data):
        stream.data.extend(bytes(stream.position - len(stream.data)))
    stream.data[stream.position:end] = data
    stream.position = end
    stream.dirty = True
    return {"WrittenSize": len(data)}


def commit_stream(stream: StreamObject) -> None:
    """Write a stream's bytes back to its property (MS-OXCPRPT 2.2.18)."""
    view = view_of(stream.owner)
    if view is not None:
        view.props.set(stream.tag, stream_value(bytes(stream.data), stream.tag & 0xFFFF))
    stream.dirty = False


@handler(0x5D)
def rop_commit_stream(session, rop, ctx) -> dict:
    """MS-OXCPRPT 2.2.18 RopCommitStream: the property takes the stream's bytes."""
    stream = _stream(session, ctx, rop)
    if stream.writable:
        commit_stream(stream)
    return {}


@handler(0x5E)
def rop_get_stream_size(session, rop, ctx) -> dict:
    """MS-OXCPRPT 2.2.19 RopGetStreamSize."""
    return {"StreamSize": len(_stream(session, ctx, rop).data)}


@handler(0x2F)
def rop_set_stream_size(session, rop, ctx) -> dict:
    """MS-OXCPRPT 2.2.20 RopSetStreamSize: truncated or zero-extended."""
    stream = _stream(session, ctx, rop)
    if not stream.writable:
        raise RopError(EC_ACCESS_DENIED)
    size = int(rop["StreamSize"])
    if size > session.max_stream:
        raise RopError(EC_STREAM_SIZE_ERROR)
    if size < len(stream.data):
        del stream.data[size:]
    else:
        stream.data.extend(bytes(size - len(stream.data)))
    stream.dirty = True
    return {}


@handler(0x2E)
def rop_seek_stream(session, rop, ctx) -> dict:
    """MS-OXCPRPT 2.2.21 RopSeekStream: Offset from the beginning, the position or the end."""
    stream = _stream(session, ctx, rop)
    origin = int(rop["Origin"])
    if origin not in (SEEK_BEGINNING, SEEK_CURRENT, SEEK_END):
        raise RopError(EC_INVALID_PARAM)
    offset = int(rop["Offset"])
    if offset >= 1 << 63:
        offset -= 1 << 64  # a negative offset, two's complement
    base = {SEEK_BEGINNING: 0, SEEK_CURRENT: stream.position, SEEK_END: len(stream.data)}[origin]
    position = base + offset
    if not 0 <= position <= session.max_stream:
        raise RopError(EC_STREAM_SIZE_ERROR)
    stream.position = position
    return {"NewPosition": position}

