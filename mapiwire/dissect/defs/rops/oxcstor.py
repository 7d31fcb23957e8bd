"""MS-OXCSTOR: Logon ROPs (MS-OXCROPS 2.2.3.1 - 2.2.3.13).

Buffers from MS-OXCROPS 2.2.3; flag names and field meanings from MS-OXCSTOR 2.2.1.

State: the RopLogon response is laid out by its request's LogonFlags (Private 0x01: private
mailbox, else public folders), read from `this._params.request_rop`. The RopWritePerUserInformation
request carries ReplGuid only on a private-mailbox logon, which no field of the request says:
RopList hands that over as the parse param `private_logon` (True / False for the logon named by
the request's LogonId, None when unknown: then the request is an error entry, not a guess).
"""

from construct import Array, Error, If, Int8ul, Int16ul, Int32ul, Pass, Rebuild, Switch, len_, this

from ..core import AsciiZ, BoundedArray, FileTime, Flags, Guid, HexBytes, sized_field, struct
from ..errorcodes import ErrorCode
from ..oxcdata import FolderID, LongTermID, PropertyRowSet, tag_container
from .base import RopDef

# MS-OXCSTOR 2.2.1.1.1 LogonFlags (the responses echo Private, Undercover and Ghosted)
LOGON_FLAGS = {"Private": 0x01, "Undercover": 0x02, "Ghosted": 0x04, "SpoolerProcess": 0x08}

# MS-OXCSTOR 2.2.1.1.1 OpenFlags
OPEN_FLAGS = {
    "USE_ADMIN_PRIVILEGE": 0x00000001, "PUBLIC": 0x00000002, "HOME_LOGON": 0x00000004,
    "TAKE_OWNERSHIP": 0x00000008, "ALTERNATE_SERVER": 0x00000100, "IGNORE_HOME_MDB": 0x00000200,
    "NO_MAIL": 0x00000400, "USE_PER_MDB_REPLID_MAPPING": 0x01000000, "SUPPORT_PROGRESS": 0x20000000,
}

# MS-OXCSTOR 2.2.1.1.3 ResponseFlags
RESPONSE_FLAGS = {"Reserved": 0x01, "OwnerRight": 0x02, "SendAsRight": 0x04, "OOF": 0x10}

# MS-OXCSTOR 2.2.1.5.2 StoreState
STORE_STATE = {"STORE_HAS_SEARCHES": 0x01000000}

LogonFlags = Flags(Int8ul, LOGON_FLAGS)
StoreState = Flags(Int32ul, STORE_STATE)

# MS-OXCSTOR 2.2.1.4.2: the columns of every Receive folder table row, in this order:
# PidTagFolderId (PtypInteger64), PidTagMessageClass (PtypString8), PidTagLastModificationTime (PtypTime)
RECEIVE_FOLDER_TABLE_COLUMNS = [tag_container(0x67480014), tag_container(0x001A001E), tag_container(0x30080040)]

# 2.2.3.1 RopLogon (0xFE)

RopLogonRequest = struct(
    "MS-OXCROPS 2.2.3.1.1 RopLogon ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "LogonFlags" / LogonFlags,  # MS-OXCSTOR 2.2.1.1.1
    "OpenFlags" / Flags(Int32ul, OPEN_FLAGS),  # MS-OXCSTOR 2.2.1.1.1
    "StoreState" / StoreState,  # not used, 0
    # EssdnSize counts the terminating null; a public-folders logon sends none (size 0)
    *sized_field("EssdnSize", Int16ul, "Essdn", If(this.EssdnSize != 0, AsciiZ)),
)

LogonTime = struct(
    "MS-OXCROPS 2.2.3.1.2.1 LogonTime Structure",
    "Seconds" / Int8ul,
    "Minutes" / Int8ul,
    "Hour" / Int8ul,
    "DayOfWeek" / Int8ul,  # Sunday = 0
    "Day" / Int8ul,
    "Month" / Int8ul,  # January = 1
    "Year" / Int16ul,
)

RopLogonPrivateMailboxResponse = struct(
    "MS-OXCROPS 2.2.3.1.2 RopLogon ROP Success Response Buffer for Private Mailboxes",
    "RopId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "LogonFlags" / LogonFlags,  # MS-OXCSTOR 2.2.1.1.3
    "FolderIds" / Array(13, FolderID),  # MS-OXCSTOR 2.2.1.1.3: Mailbox Root ... Shortcuts
    "ResponseFlags" / Flags(Int8ul, RESPONSE_FLAGS),  # MS-OXCSTOR 2.2.1.1.3
    "MailboxGuid" / Guid,
    "ReplId" / Int16ul,
    "ReplGuid" / Guid,
    "LogonTime" / LogonTime,
    "GwartTime" / FileTime,
    "StoreState" / StoreState,
)

RopLogonPublicFolderResponse = struct(
    "MS-OXCROPS 2.2.3.1.3 RopLogon ROP Success Response Buffer for Public Folders",
    "RopId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "LogonFlags" / LogonFlags,  # MS-OXCSTOR 2.2.1.1.4
    "FolderIds" / Array(13, FolderID),  # MS-OXCSTOR 2.2.1.1.4: Public Folders Root ... (3 empty)
    "ReplId" / Int16ul,
    "ReplGuid" / Guid,
    "PerUserGuid" / Guid,  # not used, zero
)

RopLogonResponse = Switch(
    this._params.request_rop.LogonFlags & 0x01,
    {0x01: RopLogonPrivateMailboxResponse, 0x00: RopLogonPublicFolderResponse},
) * "MS-OXCROPS 2.2.3.1.2, 2.2.3.1.3 (by the request's LogonFlags Private bit)"

RopLogonRedirectResponse = struct(
    "MS-OXCROPS 2.2.3.1.4 RopLogon ROP Redirect Response Buffer (ReturnValue ecWrongServer 0x00000478)",
    "RopId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "LogonFlags" / LogonFlags,  # MS-OXCSTOR 2.2.1.1.2
    *sized_field("ServerNameSize", Int8ul, "ServerName", AsciiZ),  # size counts the terminating null
)

# 2.2.3.2 RopGetReceiveFolder (0x27)

RopGetReceiveFolderRequest = struct(
    "MS-OXCROPS 2.2.3.2.1 RopGetReceiveFolder ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "MessageClass" / AsciiZ,
)

RopGetReceiveFolderResponse = struct(
    "MS-OXCROPS 2.2.3.2.2 RopGetReceiveFolder ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "FolderId" / FolderID,
    "ExplicitMessageClass" / AsciiZ,
)

# 2.2.3.3 RopSetReceiveFolder (0x26)

RopSetReceiveFolderRequest = struct(
    "MS-OXCROPS 2.2.3.3.1 RopSetReceiveFolder ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "FolderId" / FolderID,
    "MessageClass" / AsciiZ,
)

RopSetReceiveFolderResponse = struct(
    "MS-OXCROPS 2.2.3.3.2 RopSetReceiveFolder ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.3.4 RopGetReceiveFolderTable (0x68)

RopGetReceiveFolderTableRequest = struct(
    "MS-OXCROPS 2.2.3.4.1 RopGetReceiveFolderTable ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
)

RopGetReceiveFolderTableResponse = struct(
    "MS-OXCROPS 2.2.3.4.2 RopGetReceiveFolderTable ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "RowCount" / Rebuild(Int32ul, len_(this.Rows)),
    "Rows" / PropertyRowSet(this.RowCount, RECEIVE_FOLDER_TABLE_COLUMNS),  # MS-OXCSTOR 2.2.1.4.2
)

# 2.2.3.5 RopGetStoreState (0x7B)

RopGetStoreStateRequest = struct(
    "MS-OXCROPS 2.2.3.5.1 RopGetStoreState ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
)

RopGetStoreStateResponse = struct(
    "MS-OXCROPS 2.2.3.5.2 RopGetStoreState ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "StoreState" / StoreState,  # MS-OXCSTOR 2.2.1.5.2
)

# 2.2.3.6 RopGetOwningServers (0x42)

RopGetOwningServersRequest = struct(
    "MS-OXCROPS 2.2.3.6.1 RopGetOwningServers ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "FolderId" / FolderID,
)

RopGetOwningServersResponse = struct(
    "MS-OXCROPS 2.2.3.6.2 RopGetOwningServers ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "OwningServersCount" / Rebuild(Int16ul, len_(this.OwningServers)),
    "CheapServersCount" / Int16ul,
    "OwningServers" / BoundedArray(this.OwningServersCount, AsciiZ),
)

# 2.2.3.7 RopPublicFolderIsGhosted (0x45)

RopPublicFolderIsGhostedRequest = struct(
    "MS-OXCROPS 2.2.3.7.1 RopPublicFolderIsGhosted ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "FolderId" / FolderID,
)

RopPublicFolderIsGhostedResponse = struct(
    "MS-OXCROPS 2.2.3.7.2 RopPublicFolderIsGhosted ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "IsGhosted" / Int8ul,
    "ServersCount" / If(this.IsGhosted != 0, Rebuild(Int16ul, len_(this.Servers))),
    "CheapServersCount" / If(this.IsGhosted != 0, Int16ul),
    "Servers" / If(this.IsGhosted != 0, BoundedArray(this.ServersCount, AsciiZ)),
)

# 2.2.3.8 RopLongTermIdFromId (0x43)

RopLongTermIdFromIdRequest = struct(
    "MS-OXCROPS 2.2.3.8.1 RopLongTermIdFromId ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ObjectId" / FolderID,  # a Folder ID or Message ID: the same 8-byte layout
)

RopLongTermIdFromIdResponse = struct(
    "MS-OXCROPS 2.2.3.8.2 RopLongTermIdFromId ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "LongTermId" / LongTermID,
)

# 2.2.3.9 RopIdFromLongTermId (0x44)

RopIdFromLongTermIdRequest = struct(
    "MS-OXCROPS 2.2.3.9.1 RopIdFromLongTermId ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "LongTermId" / LongTermID,
)

RopIdFromLongTermIdResponse = struct(
    "MS-OXCROPS 2.2.3.9.2 RopIdFromLongTermId ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "ObjectId" / FolderID,  # a Folder ID or Message ID: the same 8-byte layout
)

# 2.2.3.10 RopGetPerUserLongTermIds (0x60)

RopGetPerUserLongTermIdsRequest = struct(
    "MS-OXCROPS 2.2.3.10.1 RopGetPerUserLongTermIds ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "DatabaseGuid" / Guid,
)

RopGetPerUserLongTermIdsResponse = struct(
    "MS-OXCROPS 2.2.3.10.2 RopGetPerUserLongTermIds ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "LongTermIdCount" / Rebuild(Int16ul, len_(this.LongTermIds)),
    "LongTermIds" / BoundedArray(this.LongTermIdCount, LongTermID),
)

# 2.2.3.11 RopGetPerUserGuid (0x61)

RopGetPerUserGuidRequest = struct(
    "MS-OXCROPS 2.2.3.11.1 RopGetPerUserGuid ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "LongTermId" / LongTermID,
)

RopGetPerUserGuidResponse = struct(
    "MS-OXCROPS 2.2.3.11.2 RopGetPerUserGuid ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "DatabaseGuid" / Guid,
)

# 2.2.3.12 RopReadPerUserInformation (0x63)

RopReadPerUserInformationRequest = struct(
    "MS-OXCROPS 2.2.3.12.1 RopReadPerUserInformation ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "FolderId" / LongTermID,
    "Reserved" / Int8ul,
    "DataOffset" / Int32ul,
    "MaxDataSize" / Int16ul,
)

RopReadPerUserInformationResponse = struct(
    "MS-OXCROPS 2.2.3.12.2 RopReadPerUserInformation ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "HasFinished" / Int8ul,
    *sized_field("DataSize", Int16ul, "Data", HexBytes()),  # MS-OXCSTOR 2.2.1.12.2: a serialized CNSET
)

# 2.2.3.13 RopWritePerUserInformation (0x64)

RopWritePerUserInformationRequest = struct(
    "MS-OXCROPS 2.2.3.13.1 RopWritePerUserInformation ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "FolderId" / LongTermID,
    "HasFinished" / Int8ul,
    "DataOffset" / Int32ul,
    *sized_field("DataSize", Int16ul, "Data", HexBytes()),
    # present when DataOffset is 0 and the LogonId's logon is a private mailbox (see module docstring);
    # nested so that only DataOffset 0 asks for the logon state; an unknown logon is an error
    "ReplGuid" / If(this.DataOffset == 0, Switch(this._params.private_logon, {True: Guid, False: Pass},
                                                 default=Error)),
)

RopWritePerUserInformationResponse = struct(
    "MS-OXCROPS 2.2.3.13.2 RopWritePerUserInformation ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

ROPS = [
    RopDef(0xFE, "RopLogon", "MS-OXCROPS 2.2.3.1", request=RopLogonRequest, response=RopLogonResponse,
           error_shapes={0x00000478: RopLogonRedirectResponse}),
    RopDef(0x27, "RopGetReceiveFolder", "MS-OXCROPS 2.2.3.2", request=RopGetReceiveFolderRequest,
           response=RopGetReceiveFolderResponse),
    RopDef(0x26, "RopSetReceiveFolder", "MS-OXCROPS 2.2.3.3", request=RopSetReceiveFolderRequest,
           response=RopSetReceiveFolderResponse),
    RopDef(0x68, "RopGetReceiveFolderTable", "MS-OXCROPS 2.2.3.4", request=RopGetReceiveFolderTableRequest,
           response=RopGetReceiveFolderTableResponse),
    RopDef(0x7B, "RopGetStoreState", "MS-OXCROPS 2.2.3.5", request=RopGetStoreStateRequest,
           response=RopGetStoreStateResponse),
    RopDef(0x42, "RopGetOwningServers", "MS-OXCROPS 2.2.3.6", request=RopGetOwningServersRequest,
           response=RopGetOwningServersResponse),
    RopDef(0x45, "RopPublicFolderIsGhosted", "MS-OXCROPS 2.2.3.7", request=RopPublicFolderIsGhostedRequest,
           response=RopPublicFolderIsGhostedResponse),
    RopDef(0x43, "RopLongTermIdFromId", "MS-OXCROPS 2.2.3.8", request=RopLongTermIdFromIdRequest,
           response=RopLongTermIdFromIdResponse),
    RopDef(0x44, "RopIdFromLongTermId", "MS-OXCROPS 2.2.3.9", request=RopIdFromLongTermIdRequest,
           response=RopIdFromLongTermIdResponse),
    RopDef(0x60, "RopGetPerUserLongTermIds", "MS-OXCROPS 2.2.3.10", request=RopGetPerUserLongTermIdsRequest,
           response=RopGetPerUserLongTermIdsResponse),
    RopDef(0x61, "RopGetPerUserGuid", "MS-OXCROPS 2.2.3.11", request=RopGetPerUserGuidRequest,
           response=RopGetPerUserGuidResponse),
    RopDef(0x63, "RopReadPerUserInformation", "MS-OXCROPS 2.2.3.12", request=RopReadPerUserInformationRequest,
           response=RopReadPerUserInformationResponse),
    RopDef(0x64, "RopWritePerUserInformation", "MS-OXCROPS 2.2.3.13", request=RopWritePerUserInformationRequest,
           response=RopWritePerUserInformationResponse),
]
