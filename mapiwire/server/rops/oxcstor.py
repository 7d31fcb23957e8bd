"""MS-OXCSTOR handlers: logon and store ROPs (MS-OXCROPS 2.2.3)."""

from __future__ import annotations

import time

from ..store import filetime, id_struct, id_value
from .base import EC_LOGIN_FAILURE, EC_LOGIN_PERM, EC_NOT_FOUND, EC_UNKNOWN_USER, RopError, handler
from .objects import LogonObject

PRIVATE = 0x01  # MS-OXCSTOR 2.2.1.1.1 LogonFlags Private
# MS-OXCSTOR 2.2.1.1.3 ResponseFlags: Reserved (always set), OwnerRight, SendAsRight
RESPONSE_FLAGS = 0x01 | 0x02 | 0x04


def logon_time() -> dict:
    """MS-OXCROPS 2.2.3.1.2.1 LogonTime: the server's current time (UTC), Sunday = 0."""
    now = time.gmtime()
    return {"Seconds": now.tm_sec, "Minutes": now.tm_min, "Hour": now.tm_hour, "DayOfWeek": (now.tm_wday + 1) % 7,
            "Day": now.tm_mday, "Month": now.tm_mon, "Year": now.tm_year}


@handler(0xFE)
def rop_logon(session, rop, ctx) -> dict:
    """MS-OXCSTOR 3.2.5.1 RopLogon: a private mailbox logon answers the 13 special folder ids
    (2.2.1.1.3). The Essdn names the mailbox; only the session's own is allowed (ecLoginPerm);
    public folders are not served here (ecLoginFailure)."""
    flags = int(rop["LogonFlags"])
    if not flags & PRIVATE:
        raise RopError(EC_LOGIN_FAILURE)
    essdn = rop.get("Essdn") or ""
    user = session.store.user(essdn) if essdn else session.user
    if user is None:
        raise RopError(EC_UNKNOWN_USER)
    if user.alias.lower() != session.user.alias.lower():
        raise RopError(EC_LOGIN_PERM)
    mailbox = session.store.mailbox(user)
    session.put(ctx, rop, LogonObject(mailbox, int(rop["LogonId"]), flags))
    return {"LogonFlags": flags & 0x07, "FolderIds": [id_struct(fid) for fid in mailbox.special],
            "ResponseFlags": RESPONSE_FLAGS, "MailboxGuid": mailbox.mailbox_guid, "ReplId": mailbox.replica_id,
            "ReplGuid": mailbox.repl_guid, "LogonTime": logon_time(), "GwartTime": filetime(), "StoreState": 0}


@handler(0x27)
def rop_get_receive_folder(session, rop, ctx) -> dict:
    """MS-OXCSTOR 3.2.5.2 RopGetReceiveFolder: the folder of the longest matching class prefix."""
    logon = session.get(ctx, rop, kind=LogonObject)
    fid, explicit = logon.mailbox.receive_folder(str(rop["MessageClass"]))
    return {"FolderId": id_struct(fid), "ExplicitMessageClass": explicit}


@handler(0x26)
def rop_set_receive_folder(session, rop, ctx) -> dict:
    """MS-OXCSTOR 3.2.5.3 RopSetReceiveFolder: a message class's receive folder (FolderId 0: the
    default back); delivery follows it. The folder must exist (ecNotFound)."""
    logon = session.get(ctx, rop, kind=LogonObject)
    fid = id_value(rop["FolderId"])
    if fid and fid not in logon.mailbox.folders:
        raise RopError(EC_NOT_FOUND)
    logon.mailbox.set_receive_folder(str(rop["MessageClass"]), fid or None)
    return {}


@handler(0x68)
def rop_get_receive_folder_table(session, rop, ctx) -> dict:
    """MS-OXCSTOR 3.2.5.4 RopGetReceiveFolderTable: one row per receive folder setting (2.2.1.4.2)."""
    logon = session.get(ctx, rop, kind=LogonObject)
    changed = filetime()
    rows = [{"Flag": 0, "ValueArray": [{"PropertyValue": fid}, {"PropertyValue": prefix},
                                       {"PropertyValue": changed}]}
            for prefix, fid in logon.mailbox.receive_folders.items()]
    return {"Rows": rows}


@handler(0x7B)
def rop_get_store_state(session, rop, ctx) -> dict:
    """MS-OXCSTOR 3.2.5.5 RopGetStoreState: no search folders are kept (StoreState 0)."""
    session.get(ctx, rop, kind=LogonObject)
    return {"StoreState": 0}


@handler(0x43)
def rop_long_term_id_from_id(session, rop, ctx) -> dict:
    """MS-OXCSTOR 3.2.5.8 RopLongTermIdFromId: the REPLGUID of the id's ReplicaId and its counter."""
    logon = session.get(ctx, rop, kind=LogonObject)
    long_term = logon.mailbox.long_term_id(id_value(rop["ObjectId"]))
    if long_term is None:
        raise RopError(EC_NOT_FOUND)
    return {"LongTermId": long_term}


@handler(0x44)
def rop_id_from_long_term_id(session, rop, ctx) -> dict:
    """MS-OXCSTOR 3.2.5.9 RopIdFromLongTermId: ecNotFound for a REPLGUID this store does not know."""
    logon = session.get(ctx, rop, kind=LogonObject)
    value = logon.mailbox.id_from_long_term(rop["LongTermId"])
    if value is None:
        raise RopError(EC_NOT_FOUND)
    return {"ObjectId": id_struct(value)}

