"""MS-OXCFOLD handlers: folder ROPs (MS-OXCROPS 2.2.4)."""

from __future__ import annotations

from ..store import TAG, id_struct, id_value
from .base import (EC_ACCESS_DENIED, EC_DUPLICATE_NAME, EC_DST_NULL_OBJECT, EC_NOT_FOUND, EC_NOT_SUPPORTED,
                   EC_NULL_OBJECT, RopError, handler)
from .objects import FolderObject, LogonObject, TableObject
from .tables import Table

GENERIC_FOLDER = 0x01  # MS-OXCFOLD 2.2.1.2.1 FolderType
DEL_MESSAGES, DEL_FOLDERS = 0x01, 0x04  # MS-OXCFOLD 2.2.1.3.1 DeleteFolderFlags
EC_FOLDER_HAS_CHILDREN = 0x80040609  # MS-OXCDATA 2.4.1 ecFolderHasChildren
EC_FOLDER_HAS_CONTENTS = 0x8004060A  # MS-OXCDATA 2.4.1 ecFolderHasContents
EC_CYCLE = 0x80040804  # MS-OXCDATA 2.4.2 CycleDetected: a folder into its own subtree


def mailbox_of(session, ctx, rop, field: str = "InputHandleIndex"):
    """The mailbox a logon or folder handle belongs to."""
    obj = session.get(ctx, rop, field)
    if not isinstance(obj, (LogonObject, FolderObject)):
        raise RopError(EC_NULL_OBJECT)
    return obj.mailbox


@handler(0x02)
def rop_open_folder(session, rop, ctx) -> dict:
    """MS-OXCFOLD 3.2.5.1 RopOpenFolder: by FolderId, from a logon or a folder; ecNotFound when absent."""
    mailbox = mailbox_of(session, ctx, rop)
    fid = id_value(rop["FolderId"])
    if fid not in mailbox.folders:
        raise RopError(EC_NOT_FOUND)
    session.put(ctx, rop, FolderObject(mailbox, fid))
    return {"HasRules": 0, "IsGhosted": 0}


@handler(0x1C)
def rop_create_folder(session, rop, ctx) -> dict:
    """MS-OXCFOLD 3.2.5.2 RopCreateFolder: a generic folder under the input folder; an existing name
    is opened when OpenExisting is set, else ecDuplicateName. Search folders are not supported."""
    parent = session.get(ctx, rop, kind=FolderObject)
    if int(rop["FolderType"]) != GENERIC_FOLDER:
        raise RopError(EC_NOT_SUPPORTED)
    session.check_output(ctx, rop)
    name = str(rop["DisplayName"])
    existing = parent.mailbox.find_folder(parent.folder.fid, name)
    if existing is not None:
        if not rop["OpenExisting"]:
            raise RopError(EC_DUPLICATE_NAME)
        session.put(ctx, rop, FolderObject(parent.mailbox, existing.fid))
        return {"FolderId": id_struct(existing.fid), "IsExistingFolder": 1, "HasRules": 0, "IsGhosted": 0}
    container_class = parent.folder.props.values.get(TAG["PidTagContainerClass"] >> 16, (0, "IPF.Note"))[1]
    folder = parent.mailbox.create_folder(parent.fid, name, comment=str(rop["Comment"]),
                                          container_class=container_class)
    session.put(ctx, rop, FolderObject(parent.mailbox, folder.fid))
    return {"FolderId": id_struct(folder.fid), "IsExistingFolder": 0}


@handler(0x1D)
def rop_delete_folder(session, rop, ctx) -> dict:
    """MS-OXCFOLD 3.2.5.3 RopDeleteFolder: a subfolder of the input folder; its messages and
    subfolders only with DEL_MESSAGES / DEL_FOLDERS; special folders are refused."""
    parent = session.get(ctx, rop, kind=FolderObject)
    mailbox = parent.mailbox
    fid = id_value(rop["FolderId"])
    folder = mailbox.folders.get(fid)
    if folder is None or folder.parent_id != parent.fid:
        raise RopError(EC_NOT_FOUND)
    if fid in mailbox.special:
        raise RopError(EC_ACCESS_DENIED)
    flags = int(rop["DeleteFolderFlags"])
    if folder.children and not flags & DEL_FOLDERS:
        raise RopError(EC_FOLDER_HAS_CHILDREN)
    if folder.messages and not flags & DEL_MESSAGES:
        raise RopError(EC_FOLDER_HAS_CONTENTS)
    mailbox.delete_folder(fid)
    return {"PartialCompletion": 0}


def _open_table(session, rop, ctx, kind: str) -> dict:
    folder = session.get(ctx, rop, kind=FolderObject)
    table = Table(folder.mailbox, kind, folder.folder.fid, int(rop["TableFlags"]))
    session.put(ctx, rop, TableObject(table, int(rop["LogonId"])))
    return {"RowCount": len(table.rows())}


@handler(0x04)
def rop_get_hierarchy_table(session, rop, ctx) -> dict:
    """MS-OXCFOLD 3.2.5.13 RopGetHierarchyTable: the subfolders (all levels with Depth)."""
    return _open_table(session, rop, ctx, "hierarchy")


@handler(0x05)
def rop_get_contents_table(session, rop, ctx) -> dict:
    """MS-OXCFOLD 3.2.5.14 RopGetContentsTable: the folder's messages (FAI with Associated)."""
    return _open_table(session, rop, ctx, "contents")


def _delete_messages(session, rop, ctx) -> dict:
    folder = session.get(ctx, rop, kind=FolderObject)
    missing = 0
    for message_id in rop["MessageIds"]:
        if not folder.mailbox.delete_message(folder.folder.fid, id_value(message_id)):
            missing += 1
    return {"PartialCompletion": int(missing > 0)}


@handler(0x1E)
def rop_delete_messages(session, rop, ctx) -> dict:
    """MS-OXCFOLD 3.2.5.11 RopDeleteMessages: ids not in the folder leave PartialCompletion set."""
    return _delete_messages(session, rop, ctx)


@handler(0x91)
def rop_hard_delete_messages(session, rop, ctx) -> dict:
    """MS-OXCFOLD 3.2.5.12 RopHardDeleteMessages: as RopDeleteMessages (nothing is kept soft-deleted)."""
    return _delete_messages(session, rop, ctx)


@handler(0x33)
def rop_move_copy_messages(session, rop, ctx) -> dict:
    """MS-OXCFOLD 3.2.5.6 RopMoveCopyMessages: to the folder at DestHandleIndex (ecDstNullObject
    when that handle is not a folder); ids not in the source leave PartialCompletion set."""
    source = session.get(ctx, rop, "SourceHandleIndex", kind=FolderObject)
    try:
        target = session.get(ctx, rop, "DestHandleIndex", kind=FolderObject)
    except RopError:
        raise RopError(EC_DST_NULL_OBJECT) from None
    if target.mailbox is not source.mailbox:
        raise RopError(EC_NOT_SUPPORTED)
    missing = 0
    for message_id in rop["MessageIds"]:
        if not source.mailbox.move_message(source.folder.fid, id_value(message_id), target.folder.fid,
                                           copy_only=bool(rop["WantCopy"])):
            missing += 1
    return {"PartialCompletion": int(missing > 0)}


@handler(0x58)
def rop_empty_folder(session, rop, ctx) -> dict:
    """MS-OXCFOLD 3.2.5.9 RopEmptyFolder: every message and subfolder goes."""
    folder = session.get(ctx, rop, kind=FolderObject)
    mailbox = folder.mailbox
    for mid in list(folder.folder.messages):
        mailbox.delete_message(folder.fid, mid)
    for child in list(folder.folder.children):
        if child not in mailbox.special:
            mailbox.delete_folder(child)
    return {"PartialCompletion": 0}


def _folder_operation(session, rop, ctx):
    """Source parent folder, destination folder (ecDstNullObject when not one), the folder and its new name."""
    source = session.get(ctx, rop, "SourceHandleIndex", kind=FolderObject)
    try:
        target = session.get(ctx, rop, "DestHandleIndex", kind=FolderObject)
    except RopError:
        raise RopError(EC_DST_NULL_OBJECT) from None
    mailbox = source.mailbox
    fid = id_value(rop["FolderId"])
    folder = mailbox.folders.get(fid)
    if target.mailbox is not mailbox or folder is None or folder.parent_id != source.fid:
        raise RopError(EC_NOT_FOUND)
    name = str(rop["NewFolderName"])
    if mailbox.find_folder(target.folder.fid, name) is not None:
        raise RopError(EC_DUPLICATE_NAME)
    if mailbox.is_within(target.fid, fid):
        raise RopError(EC_CYCLE)
    return mailbox, fid, target.fid, name


@handler(0x35)
def rop_move_folder(session, rop, ctx) -> dict:
    """MS-OXCFOLD 3.2.5.7 RopMoveFolder: a subfolder of the source goes under the destination with
    its new name (Outlook deletes a folder this way, into Deleted Items); special folders stay."""
    mailbox, fid, target, name = _folder_operation(session, rop, ctx)
    if fid in mailbox.special:
        raise RopError(EC_ACCESS_DENIED)
    mailbox.move_folder(fid, target, name)
    return {"PartialCompletion": 0}


@handler(0x36)
def rop_copy_folder(session, rop, ctx) -> dict:
    """MS-OXCFOLD 3.2.5.8 RopCopyFolder: a copy with new ids, its messages, and its subfolders when WantRecursive."""
    mailbox, fid, target, name = _folder_operation(session, rop, ctx)
    mailbox.copy_folder(fid, target, name, bool(rop["WantRecursive"]))
    return {"PartialCompletion": 0}
