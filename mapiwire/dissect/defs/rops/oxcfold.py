"""MS-OXCFOLD: Folder ROPs (MS-OXCROPS 2.2.4.1 - 2.2.4.14).

Layouts from MS-OXCROPS 2.2.4; flag and enumeration names from MS-OXCFOLD 2.2.1. Responses
with a PartialCompletion field carry it whatever the ReturnValue (their `failure` is the
full layout); RopMoveCopyMessages, RopMoveFolder and RopCopyFolder answer ecDstNullObject
(0x00000503) with a 4-byte DestHandleIndex before PartialCompletion.
"""

from construct import If, IfThenElse, Int8ul, Int16ul, Int32ul, Rebuild, len_, this

from ..core import AsciiZ, BoundedArray, Enum, Flags, Sized, SizeOf, UnicodeZ, struct
from ..errorcodes import ErrorCode
from ..oxcdata import FolderID, MessageID, Restriction
from .base import RopDef

ECDSTNULLOBJECT = 0x00000503  # MS-OXCDATA 2.4.2: the destination object does not exist

# MS-OXCFOLD 2.2.1.1.1 OpenModeFlags
OPEN_MODE_FLAGS = {"OpenSoftDeleted": 0x04}
# MS-OXCFOLD 2.2.1.2.1 FolderType
FOLDER_TYPES = {0x01: "Generic", 0x02: "Search"}
# MS-OXCFOLD 2.2.1.3.1 DeleteFolderFlags
DELETE_FOLDER_FLAGS = {"DEL_MESSAGES": 0x01, "DEL_FOLDERS": 0x04, "DELETE_HARD_DELETE": 0x10}
# MS-OXCFOLD 2.2.1.4.1 SearchFlags of RopSetSearchCriteria
SET_SEARCH_FLAGS = {
    "STOP_SEARCH": 0x00000001, "RESTART_SEARCH": 0x00000002, "RECURSIVE_SEARCH": 0x00000004,
    "SHALLOW_SEARCH": 0x00000008, "CONTENT_INDEXED_SEARCH": 0x00010000,
    "NON_CONTENT_INDEXED_SEARCH": 0x00020000, "STATIC_SEARCH": 0x00040000,
}
# MS-OXCFOLD 2.2.1.5.2 SearchFlags of RopGetSearchCriteria (the state of the search): the nine
# values of that table (CI_WITH_TWIR_RESIDUAL / TWIR_MOSTLY are MAPI header names, not in it)
GET_SEARCH_FLAGS = {
    "SEARCH_RUNNING": 0x00000001, "SEARCH_REBUILD": 0x00000002, "SEARCH_RECURSIVE": 0x00000004,
    "SEARCH_COMPLETE": 0x00001000, "SEARCH_PARTIAL": 0x00002000, "SEARCH_STATIC": 0x00010000,
    "SEARCH_MAYBE_STATIC": 0x00020000, "CI_TOTALLY": 0x01000000, "TWIR_TOTALLY": 0x08000000,
}
# MS-OXCFOLD 2.2.1.13.1 TableFlags of RopGetHierarchyTable (the client sets no other bits)
HIERARCHY_TABLE_FLAGS = {
    "Depth": 0x04, "DeferredErrors": 0x08, "NoNotifications": 0x10, "SoftDeletes": 0x20,
    "UseUnicode": 0x40, "SuppressesNotifications": 0x80,
}
# MS-OXCFOLD 2.2.1.14.1 TableFlags of RopGetContentsTable (no Depth bit here)
CONTENTS_TABLE_FLAGS = {
    "Associated": 0x02, "DeferredErrors": 0x08, "NoNotifications": 0x10, "SoftDeletes": 0x20,
    "UseUnicode": 0x40, "ConversationMembers": 0x80,
}


# 2.2.4.1 RopOpenFolder (0x02)
RopOpenFolderRequest = struct(
    "MS-OXCROPS 2.2.4.1.1 RopOpenFolder ROP Request Buffer (OpenModeFlags: MS-OXCFOLD 2.2.1.1.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "FolderId" / FolderID,
    "OpenModeFlags" / Flags(Int8ul, OPEN_MODE_FLAGS),
)

RopOpenFolderResponse = struct(
    "MS-OXCROPS 2.2.4.1.2 RopOpenFolder ROP Success Response Buffer",
    "RopId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "HasRules" / Int8ul,
    "IsGhosted" / Int8ul,
    "ServerCount" / If(this.IsGhosted != 0, Rebuild(Int16ul, len_(this.Servers))),
    "CheapServerCount" / If(this.IsGhosted != 0, Int16ul),
    "Servers" / If(this.IsGhosted != 0, BoundedArray(this.ServerCount, AsciiZ)),
)

# 2.2.4.2 RopCreateFolder (0x1C)
RopCreateFolderRequest = struct(
    "MS-OXCROPS 2.2.4.2.1 RopCreateFolder ROP Request Buffer (FolderType: MS-OXCFOLD 2.2.1.2.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "FolderType" / Enum(Int8ul, FOLDER_TYPES),
    "UseUnicodeStrings" / Int8ul,
    "OpenExisting" / Int8ul,
    "Reserved" / Int8ul,
    "DisplayName" / IfThenElse(this.UseUnicodeStrings != 0, UnicodeZ, AsciiZ),
    "Comment" / IfThenElse(this.UseUnicodeStrings != 0, UnicodeZ, AsciiZ),
)

RopCreateFolderResponse = struct(
    "MS-OXCROPS 2.2.4.2.2 RopCreateFolder ROP Success Response Buffer "
    "(HasRules, IsGhosted only if IsExistingFolder; the server list only if also IsGhosted)",
    "RopId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "FolderId" / FolderID,
    "IsExistingFolder" / Int8ul,
    "HasRules" / If(this.IsExistingFolder != 0, Int8ul),
    "IsGhosted" / If(this.IsExistingFolder != 0, Int8ul),
    "ServerCount" / If((this.IsExistingFolder != 0) & (this.IsGhosted != 0), Rebuild(Int16ul, len_(this.Servers))),
    "CheapServerCount" / If((this.IsExistingFolder != 0) & (this.IsGhosted != 0), Int16ul),
    "Servers" / If((this.IsExistingFolder != 0) & (this.IsGhosted != 0), BoundedArray(this.ServerCount, AsciiZ)),
)

# 2.2.4.3 RopDeleteFolder (0x1D)
RopDeleteFolderRequest = struct(
    "MS-OXCROPS 2.2.4.3.1 RopDeleteFolder ROP Request Buffer (DeleteFolderFlags: MS-OXCFOLD 2.2.1.3.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "DeleteFolderFlags" / Flags(Int8ul, DELETE_FOLDER_FLAGS),
    "FolderId" / FolderID,
)

RopDeleteFolderResponse = struct(
    "MS-OXCROPS 2.2.4.3.2 RopDeleteFolder ROP Response Buffer (any ReturnValue)",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "PartialCompletion" / Int8ul,
)

# 2.2.4.4 RopSetSearchCriteria (0x30)
RopSetSearchCriteriaRequest = struct(
    "MS-OXCROPS 2.2.4.4.1 RopSetSearchCriteria ROP Request Buffer "
    "(RestrictionDataSize 0 reuses the last criteria: MS-OXCFOLD 2.2.1.4.1; SearchFlags: same)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "RestrictionDataSize" / SizeOf(Int16ul, "RestrictionData"),
    "RestrictionData" / If(this.RestrictionDataSize != 0,
                           Sized(this.RestrictionDataSize, Restriction(), "RestrictionData", Int16ul)),
    "FolderIdCount" / Rebuild(Int16ul, len_(this.FolderIds)),
    "FolderIds" / BoundedArray(this.FolderIdCount, FolderID),
    "SearchFlags" / Flags(Int32ul, SET_SEARCH_FLAGS),
)

RopSetSearchCriteriaResponse = struct(
    "MS-OXCROPS 2.2.4.4.2 RopSetSearchCriteria ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.4.5 RopGetSearchCriteria (0x31)
RopGetSearchCriteriaRequest = struct(
    "MS-OXCROPS 2.2.4.5.1 RopGetSearchCriteria ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "UseUnicode" / Int8ul,
    "IncludeRestriction" / Int8ul,
    "IncludeFolders" / Int8ul,
)

RopGetSearchCriteriaResponse = struct(
    "MS-OXCROPS 2.2.4.5.2 RopGetSearchCriteria ROP Success Response Buffer "
    "(RestrictionData only if RestrictionDataSize is nonzero; SearchFlags: MS-OXCFOLD 2.2.1.5.2)",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "RestrictionDataSize" / SizeOf(Int16ul, "RestrictionData"),
    "RestrictionData" / If(this.RestrictionDataSize != 0,
                           Sized(this.RestrictionDataSize, Restriction(), "RestrictionData", Int16ul)),
    "LogonId" / Int8ul,
    "FolderIdCount" / Rebuild(Int16ul, len_(this.FolderIds)),
    "FolderIds" / BoundedArray(this.FolderIdCount, FolderID),
    "SearchFlags" / Flags(Int32ul, GET_SEARCH_FLAGS),
)

# 2.2.4.6 RopMoveCopyMessages (0x33)
RopMoveCopyMessagesRequest = struct(
    "MS-OXCROPS 2.2.4.6.1 RopMoveCopyMessages ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "SourceHandleIndex" / Int8ul,
    "DestHandleIndex" / Int8ul,
    "MessageIdCount" / Rebuild(Int16ul, len_(this.MessageIds)),
    "MessageIds" / BoundedArray(this.MessageIdCount, MessageID),
    "WantAsynchronous" / Int8ul,
    "WantCopy" / Int8ul,
)

RopMoveCopyMessagesResponse = struct(
    "MS-OXCROPS 2.2.4.6.2 RopMoveCopyMessages ROP Response Buffer (any ReturnValue but 0x00000503)",
    "RopId" / Int8ul,
    "SourceHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "PartialCompletion" / Int8ul,
)

RopMoveCopyMessagesNullDestinationFailureResponse = struct(
    "MS-OXCROPS 2.2.4.6.3 RopMoveCopyMessages ROP Null Destination Failure Response Buffer",
    "RopId" / Int8ul,
    "SourceHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "DestHandleIndex" / Int32ul,
    "PartialCompletion" / Int8ul,
)

# 2.2.4.7 RopMoveFolder (0x35)
RopMoveFolderRequest = struct(
    "MS-OXCROPS 2.2.4.7.1 RopMoveFolder ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "SourceHandleIndex" / Int8ul,
    "DestHandleIndex" / Int8ul,
    "WantAsynchronous" / Int8ul,
    "UseUnicode" / Int8ul,
    "FolderId" / FolderID,
    "NewFolderName" / IfThenElse(this.UseUnicode != 0, UnicodeZ, AsciiZ),
)

RopMoveFolderResponse = struct(
    "MS-OXCROPS 2.2.4.7.2 RopMoveFolder ROP Response Buffer (any ReturnValue but 0x00000503)",
    "RopId" / Int8ul,
    "SourceHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "PartialCompletion" / Int8ul,
)

RopMoveFolderNullDestinationFailureResponse = struct(
    "MS-OXCROPS 2.2.4.7.3 RopMoveFolder ROP Null Destination Failure Response Buffer",
    "RopId" / Int8ul,
    "SourceHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "DestHandleIndex" / Int32ul,
    "PartialCompletion" / Int8ul,
)

# 2.2.4.8 RopCopyFolder (0x36)
RopCopyFolderRequest = struct(
    "MS-OXCROPS 2.2.4.8.1 RopCopyFolder ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "SourceHandleIndex" / Int8ul,
    "DestHandleIndex" / Int8ul,
    "WantAsynchronous" / Int8ul,
    "WantRecursive" / Int8ul,
    "UseUnicode" / Int8ul,
    "FolderId" / FolderID,
    "NewFolderName" / IfThenElse(this.UseUnicode != 0, UnicodeZ, AsciiZ),
)

RopCopyFolderResponse = struct(
    "MS-OXCROPS 2.2.4.8.2 RopCopyFolder ROP Response Buffer (any ReturnValue but 0x00000503)",
    "RopId" / Int8ul,
    "SourceHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "PartialCompletion" / Int8ul,
)

RopCopyFolderNullDestinationFailureResponse = struct(
    "MS-OXCROPS 2.2.4.8.3 RopCopyFolder ROP Null Destination Failure Response Buffer",
    "RopId" / Int8ul,
    "SourceHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "DestHandleIndex" / Int32ul,
    "PartialCompletion" / Int8ul,
)

# 2.2.4.9 RopEmptyFolder (0x58)
RopEmptyFolderRequest = struct(
    "MS-OXCROPS 2.2.4.9.1 RopEmptyFolder ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "WantAsynchronous" / Int8ul,
    "WantDeleteAssociated" / Int8ul,
)

RopEmptyFolderResponse = struct(
    "MS-OXCROPS 2.2.4.9.2 RopEmptyFolder ROP Response Buffer (any ReturnValue)",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "PartialCompletion" / Int8ul,
)

# 2.2.4.10 RopHardDeleteMessagesAndSubfolders (0x92)
RopHardDeleteMessagesAndSubfoldersRequest = struct(
    "MS-OXCROPS 2.2.4.10.1 RopHardDeleteMessagesAndSubfolders ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "WantAsynchronous" / Int8ul,
    "WantDeleteAssociated" / Int8ul,
)

RopHardDeleteMessagesAndSubfoldersResponse = struct(
    "MS-OXCROPS 2.2.4.10.2 RopHardDeleteMessagesAndSubfolders ROP Response Buffer (any ReturnValue)",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "PartialCompletion" / Int8ul,
)

# 2.2.4.11 RopDeleteMessages (0x1E)
RopDeleteMessagesRequest = struct(
    "MS-OXCROPS 2.2.4.11.1 RopDeleteMessages ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "WantAsynchronous" / Int8ul,
    "NotifyNonRead" / Int8ul,
    "MessageIdCount" / Rebuild(Int16ul, len_(this.MessageIds)),
    "MessageIds" / BoundedArray(this.MessageIdCount, MessageID),
)

RopDeleteMessagesResponse = struct(
    "MS-OXCROPS 2.2.4.11.2 RopDeleteMessages ROP Response Buffer (any ReturnValue)",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "PartialCompletion" / Int8ul,
)

# 2.2.4.12 RopHardDeleteMessages (0x91)
RopHardDeleteMessagesRequest = struct(
    "MS-OXCROPS 2.2.4.12.1 RopHardDeleteMessages ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "WantAsynchronous" / Int8ul,
    "NotifyNonRead" / Int8ul,
    "MessageIdCount" / Rebuild(Int16ul, len_(this.MessageIds)),
    "MessageIds" / BoundedArray(this.MessageIdCount, MessageID),
)

RopHardDeleteMessagesResponse = struct(
    "MS-OXCROPS 2.2.4.12.2 RopHardDeleteMessages ROP Response Buffer (any ReturnValue)",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "PartialCompletion" / Int8ul,
)

# 2.2.4.13 RopGetHierarchyTable (0x04)
RopGetHierarchyTableRequest = struct(
    "MS-OXCROPS 2.2.4.13.1 RopGetHierarchyTable ROP Request Buffer (TableFlags: MS-OXCFOLD 2.2.1.13.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "TableFlags" / Flags(Int8ul, HIERARCHY_TABLE_FLAGS),
)

RopGetHierarchyTableResponse = struct(
    "MS-OXCROPS 2.2.4.13.2 RopGetHierarchyTable ROP Success Response Buffer",
    "RopId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "RowCount" / Int32ul,
)

# 2.2.4.14 RopGetContentsTable (0x05)
RopGetContentsTableRequest = struct(
    "MS-OXCROPS 2.2.4.14.1 RopGetContentsTable ROP Request Buffer (TableFlags: MS-OXCFOLD 2.2.1.14.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "TableFlags" / Flags(Int8ul, CONTENTS_TABLE_FLAGS),
)

RopGetContentsTableResponse = struct(
    "MS-OXCROPS 2.2.4.14.2 RopGetContentsTable ROP Success Response Buffer",
    "RopId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "RowCount" / Int32ul,
)


ROPS: list[RopDef] = [
    RopDef(0x02, "RopOpenFolder", "MS-OXCROPS 2.2.4.1",
           request=RopOpenFolderRequest, response=RopOpenFolderResponse),
    RopDef(0x1C, "RopCreateFolder", "MS-OXCROPS 2.2.4.2",
           request=RopCreateFolderRequest, response=RopCreateFolderResponse),
    RopDef(0x1D, "RopDeleteFolder", "MS-OXCROPS 2.2.4.3",
           request=RopDeleteFolderRequest, response=RopDeleteFolderResponse, failure=RopDeleteFolderResponse),
    RopDef(0x30, "RopSetSearchCriteria", "MS-OXCROPS 2.2.4.4",
           request=RopSetSearchCriteriaRequest, response=RopSetSearchCriteriaResponse),
    RopDef(0x31, "RopGetSearchCriteria", "MS-OXCROPS 2.2.4.5",
           request=RopGetSearchCriteriaRequest, response=RopGetSearchCriteriaResponse),
    RopDef(0x33, "RopMoveCopyMessages", "MS-OXCROPS 2.2.4.6",
           request=RopMoveCopyMessagesRequest, response=RopMoveCopyMessagesResponse,
           failure=RopMoveCopyMessagesResponse,
           error_shapes={ECDSTNULLOBJECT: RopMoveCopyMessagesNullDestinationFailureResponse}),
    RopDef(0x35, "RopMoveFolder", "MS-OXCROPS 2.2.4.7",
           request=RopMoveFolderRequest, response=RopMoveFolderResponse, failure=RopMoveFolderResponse,
           error_shapes={ECDSTNULLOBJECT: RopMoveFolderNullDestinationFailureResponse}),
    RopDef(0x36, "RopCopyFolder", "MS-OXCROPS 2.2.4.8",
           request=RopCopyFolderRequest, response=RopCopyFolderResponse, failure=RopCopyFolderResponse,
           error_shapes={ECDSTNULLOBJECT: RopCopyFolderNullDestinationFailureResponse}),
    RopDef(0x58, "RopEmptyFolder", "MS-OXCROPS 2.2.4.9",
           request=RopEmptyFolderRequest, response=RopEmptyFolderResponse, failure=RopEmptyFolderResponse),
    RopDef(0x92, "RopHardDeleteMessagesAndSubfolders", "MS-OXCROPS 2.2.4.10",
           request=RopHardDeleteMessagesAndSubfoldersRequest, response=RopHardDeleteMessagesAndSubfoldersResponse,
           failure=RopHardDeleteMessagesAndSubfoldersResponse),
    RopDef(0x1E, "RopDeleteMessages", "MS-OXCROPS 2.2.4.11",
           request=RopDeleteMessagesRequest, response=RopDeleteMessagesResponse, failure=RopDeleteMessagesResponse),
    RopDef(0x91, "RopHardDeleteMessages", "MS-OXCROPS 2.2.4.12",
           request=RopHardDeleteMessagesRequest, response=RopHardDeleteMessagesResponse,
           failure=RopHardDeleteMessagesResponse),
    RopDef(0x04, "RopGetHierarchyTable", "MS-OXCROPS 2.2.4.13",
           request=RopGetHierarchyTableRequest, response=RopGetHierarchyTableResponse),
    RopDef(0x05, "RopGetContentsTable", "MS-OXCROPS 2.2.4.14",
           request=RopGetContentsTableRequest, response=RopGetContentsTableResponse),
]
