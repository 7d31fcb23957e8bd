"""Outlook-like sessions against a MAPI/HTTP server: startup, browse, send, idle, day.

Each profile is the request sequence an Outlook client sends for that activity, built from the
dissector's definitions (mailbox.py / addressbook.py): Autodiscover (MS-OXDSCLI), the address
book (MS-OXNSPI over MS-OXCMAPIHTTP 2.2.5), Connect and RopLogon (MS-OXCSTOR), folders
(MS-OXCFOLD), tables (MS-OXCTABL), messages and attachments (MS-OXCMSG), submission (MS-OXOMSG),
streams (MS-OXCPRPT), notifications (MS-OXCNOTIF) with NotificationWait and PING. Every
exchange lands in `OutlookClient.exchanges` (what the recorder writes).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from urllib.parse import urlsplit

from ..errors import MapiwireError
from ..dissect.defs.addressbook import large_tag_array, stat
from .addressbook import AddressBook
from .autodiscover import autodiscover
from .mailbox import Mailbox, Rop
from .session import ClientInstance, MapiHttpError, MapiSession

PROFILES = ("startup", "browse", "send", "idle", "day")

# MS-OXPROPS property tags
PidTagDisplayName, PidTagFolderId, PidTagContentCount = 0x3001001F, 0x67480014, 0x36020003
PidTagContentUnreadCount, PidTagSubfolders, PidTagContainerClass = 0x36030003, 0x360A000B, 0x3613001F
PidTagMid, PidTagSubject, PidTagMessageDeliveryTime = 0x674A0014, 0x0037001F, 0x0E060040
PidTagMessageSize, PidTagHasAttachments, PidTagSenderName = 0x0E080003, 0x0E1B000B, 0x0C1A001F
PidTagMessageFlags, PidTagImportance, PidTagBody = 0x0E070003, 0x00170003, 0x1000001F
PidTagMessageClass, PidTagSmtpAddress, PidTagEmailAddress = 0x001A001F, 0x39FE001F, 0x3003001F
PidTagAttachMethod, PidTagAttachLongFilename, PidTagAttachDataBinary = 0x37050003, 0x3707001F, 0x37010102
PidTagDisplayType, PidTagTitle, PidTagDepartmentName = 0x39000003, 0x3A17001F, 0x3A18001F

HIERARCHY_COLUMNS = (PidTagFolderId, PidTagDisplayName, PidTagContentCount, PidTagContentUnreadCount,
                     PidTagSubfolders, PidTagContainerClass)
CONTENTS_COLUMNS = (PidTagMid, PidTagSubject, PidTagMessageDeliveryTime, PidTagMessageSize, PidTagHasAttachments,
                    PidTagSenderName, PidTagMessageFlags)
AB_COLUMNS = (PidTagDisplayName, PidTagSmtpAddress, PidTagEmailAddress, PidTagDisplayType, PidTagTitle)
PS_PUBLIC_STRINGS = "{00020329-0000-0000-C000-000000000046}"
PSETID_COMMON = "{00062008-0000-0000-C000-000000000046}"
# MS-OXCSTOR 2.2.1.1.3: positions of the special folders in RopLogon's FolderIds
IPM_SUBTREE, INBOX, OUTBOX, SENT_ITEMS = 3, 4, 5, 6
NEW_MAIL, OBJECT_CREATED = 0x0002, 0x0004  # MS-OXCNOTIF 2.2.1.4.1.2 NotificationTypes


def tags(*values: int) -> list[dict]:
    return [{"PropertyType": v & 0xFFFF, "PropertyId": v >> 16} for v in values]


def prop(tag: int, value) -> dict:
    """MS-OXCDATA 2.11.4 TaggedPropertyValue."""
    return {"PropertyTag": tags(tag)[0], "PropertyValue": value}


def values(row) -> list:
    """The values of a PropertyRow (MS-OXCDATA 2.8.1), None for a flagged error value."""
    out = []
    for item in row["ValueArray"]:
        flag = item.get("Flag")
        out.append(None if flag not in (None, 0) else item["PropertyValue"])
    return out


def object_id(value) -> dict:
    """A PtypInteger64 id (PidTagMid, PidTagFolderId) as the MS-OXCDATA 2.2.1.1 structure."""
    if isinstance(value, dict):
        return {"ReplicaId": int(value["ReplicaId"]), "GlobalCounter": bytes(value["GlobalCounter"])}
    raw = int(value).to_bytes(8, "little")
    return {"ReplicaId": int.from_bytes(raw[:2], "little"), "GlobalCounter": raw[2:]}


def is_loopback(url: str) -> bool:
    try:
        return ipaddress.ip_address(urlsplit(url).hostname or "").is_loopback
    except ValueError:
        return (urlsplit(url).hostname or "") == "localhost"


class NoMapiHttp(MapiwireError):
    """The server does not offer MAPI/HTTP: a real Outlook would fall back to RPC over HTTP."""


class OutlookClient:
    """One user's Outlook-like client of the server at `url` (its scheme and host; a path is ignored)."""

    def __init__(self, url: str, auth=None, *, email: str | None = None, source_address: str | None = None,
                 ca_file: str | None = None, insecure: bool = False, keylog: str | None = None,
                 proxy: str | None = None, timeout: float = 30.0, exchanges: list | None = None,
                 log=None, instance: ClientInstance | None = None):
        parts = urlsplit(url if "://" in url else f"https://{url}")
        self.base_url = f"{parts.scheme}://{parts.netloc}"
        self.auth = auth
        self.email = email or (auth.account if auth else "")
        self.connection_options = dict(ca_file=ca_file, insecure=insecure, keylog=keylog, proxy=proxy, timeout=timeout)
        self.source_address = source_address
        self.exchanges: list = exchanges if exchanges is not None else []
        self.instance = instance or ClientInstance()
        self.log = log or (lambda line: None)
        self.user_dn = self.email
        self.discovery = None
        self.mailbox: Mailbox | None = None
        self.address_book: AddressBook | None = None
        self.notifications: list = []
        self.folder_ids: dict[str, object] = {}  # name of an opened folder -> its Folder ID

    def session(self, endpoint: str) -> MapiSession:
        return MapiSession(self.base_url, endpoint, auth=self.auth, mailbox_id=self.email, client=self.instance,
                           source_address=self.source_address, exchanges=self.exchanges, **self.connection_options)

    # -- the pieces profiles are made of ------------------------------------------------------

    def autodiscover(self):
        """MS-OXDSCLI POX Autodiscover: LegacyDN becomes the UserDn; no mapiHttp section: NoMapiHttp."""
        options = {k: v for k, v in self.connection_options.items() if k != "keylog"}
        self.discovery = autodiscover(self.base_url, self.email, auth=self.auth, exchanges=self.exchanges,
                                      source_address=self.source_address, keylog=self.connection_options["keylog"],
                                      **options)
        if not self.discovery.mapi_http:
            raise NoMapiHttp("Autodiscover has no mapiHttp protocol section (MapiHttpEnabled is false): "
                             "Outlook would fall back to RPC over HTTP")
        self.user_dn = self.discovery.legacy_dn or self.user_dn
        self.email = self.discovery.smtp_address or self.email
        self.log(f"autodiscover: {self.discovery.display_name} {self.user_dn} mailbox {self.discovery.mailbox_url}")
        return self.discovery

    def open_address_book(self) -> AddressBook:
        """Bind; the user's own entry (DNToMId, GetProps); the address lists (GetSpecialTable)."""
        self.address_book = ab = AddressBook(self.session("nspi"))
        ab.bind()
        mids = ab.call("DNToMId", {"Reserved": 0, "HasNames": 1, "Names": {"Strings": [self.user_dn]}})
        mid = mids.MinimalIds[0] if mids.HasMinimalIds and mids.MinimalIds else 0
        ab.call("GetProps", {"Flags": 0, "HasState": 1, "State": stat(CurrentRec=mid), "HasPropertyTags": 1,
                             "PropertyTags": large_tag_array(*AB_COLUMNS)})
        ab.call("GetSpecialTable", {"Flags": 0x4, "HasState": 1, "State": stat(), "HasVersion": 1, "Version": 0})
        return ab

    def open_mailbox(self) -> Mailbox:
        """Connect, RopLogon + RopGetReceiveFolder, then the special folders' properties."""
        self.mailbox = mailbox = Mailbox(self.session("emsmdb"), self.user_dn)
        mailbox.connect()
        mailbox.logon()
        folders = mailbox.folders
        rops = []
        for name, index in (("inbox", INBOX), ("outbox", OUTBOX), ("sent", SENT_ITEMS), ("ipm", IPM_SUBTREE)):
            self.folder_ids[name] = folders[index]
            rops.append(Rop("RopOpenFolder", {"FolderId": object_id(folders[index]), "OpenModeFlags": 0},
                            on="logon", out=name))
            rops.append(Rop("RopGetPropertiesSpecific", {"PropertySizeLimit": 0, "WantUnicode": 1,
                                                         "PropertyTags": tags(PidTagDisplayName, PidTagContentCount,
                                                                              PidTagContentUnreadCount)}, on=name))
        mailbox.execute(rops)
        return mailbox

    def hierarchy(self) -> list:
        """The folder tree under the IPM subtree (RopGetHierarchyTable with Depth, MS-OXCFOLD 2.2.1.13)."""
        result = self.mailbox.execute([
            Rop("RopGetHierarchyTable", {"TableFlags": 0x04}, on="ipm", out="hierarchy"),
            Rop("RopSetColumns", {"SetColumnsFlags": 0, "PropertyTags": tags(*HIERARCHY_COLUMNS)}, on="hierarchy"),
            Rop("RopQueryRows", {"QueryRowsFlags": 0, "ForwardRead": 1, "RowCount": 100}, on="hierarchy")])
        rows = [values(r) for r in result[2]["RowData"]]
        self.mailbox.execute([Rop("RopRelease", on="hierarchy")])
        self.log(f"hierarchy: {len(rows)} folders: " + ", ".join(str(r[1]) for r in rows))
        return rows

    def contents(self, folder: str = "inbox", count: int = 50) -> list:
        """A contents table: RopGetContentsTable, RopSetColumns, RopSortTable (newest first), and
        RopQueryRows in a later Execute, as Outlook does (MS-OXCTABL 3.1.5)."""
        table = f"{folder}-contents"
        self.mailbox.execute([
            Rop("RopGetContentsTable", {"TableFlags": 0}, on=folder, out=table),
            Rop("RopSetColumns", {"SetColumnsFlags": 0, "PropertyTags": tags(*CONTENTS_COLUMNS)}, on=table),
            Rop("RopSortTable", {"SortTableFlags": 0, "CategoryCount": 0, "ExpandedCount": 0,
                                 "SortOrders": [{**tags(PidTagMessageDeliveryTime)[0], "Order": 1}]}, on=table)])
        result = self.mailbox.execute([
            Rop("RopQueryRows", {"QueryRowsFlags": 0, "ForwardRead": 1, "RowCount": count}, on=table),
            Rop("RopQueryPosition", {}, on=table)])
        rows = [values(r) for r in result[0]["RowData"]]
        self.log(f"{folder}: {len(rows)} messages: " + "; ".join(str(r[1]) for r in rows[:5]))
        return rows

    def read_message(self, folder: str, mid) -> tuple:
        """RopOpenMessage, its properties, its body through a stream (RopOpenStream, RopReadStream
        until a short read), RopSetMessageReadFlag, RopRelease."""
        result = self.mailbox.execute([
            Rop("RopOpenMessage", {"CodePageId": 0x0FFF, "FolderId": object_id(self.folder_ids[folder]),
                                   "OpenModeFlags": 0x03,
                                   "MessageId": object_id(mid)}, on=folder, out="message"),
            Rop("RopGetPropertiesSpecific", {"PropertySizeLimit": 0, "WantUnicode": 1,
                                             "PropertyTags": tags(PidTagSubject, PidTagSenderName, PidTagImportance,
                                                                  PidTagMessageClass)}, on="message"),
            Rop("RopOpenStream", {"PropertyTag": tags(PidTagBody)[0], "OpenModeFlags": 0}, on="message",
                out="body")])
        subject = values(result[1]["RowData"])[0]
        body = b""
        for _ in range(64):  # bounded: 64 reads of 4 KB
            read = self.mailbox.execute([Rop("RopReadStream", {"ByteCount": 4096}, on="body")])
            body += bytes(read[0]["Data"])
            if len(read[0]["Data"]) < 4096:
                break
        self.mailbox.execute([Rop("RopRelease", on="body"),
                              Rop("RopSetMessageReadFlag", {"ReadFlags": 0x00}, on="message"),
                              Rop("RopRelease", on="message")])
        text = body.decode("utf-16-le", "replace").rstrip("\0")
        self.log(f"read: {subject!r}, body {len(text)} characters")
        return subject, text

    def named_properties(self) -> list:
        """RopGetPropertyIdsFromNames (create) for a LID and a string name (MS-OXCPRPT 2.2.12)."""
        result = self.mailbox.execute([Rop("RopGetPropertyIdsFromNames", {"Flags": 0x02, "PropertyNames": [
            {"Kind": 0x00, "GUID": PSETID_COMMON, "LID": 0x8580},
            {"Kind": 0x01, "GUID": PS_PUBLIC_STRINGS, "Name": "Keywords"}]}, on="logon")])
        return list(result[0]["PropertyIds"])

    def send(self, to: list[tuple[str, str, str]], subject: str, body: str, attachment: tuple[str, bytes] | None):
        """Compose in the Outbox and submit (MS-OXOMSG 3.1.4.1): RopCreateMessage, RopSetProperties,
        RopModifyRecipients (`to`: (display name, EssDN, SMTP) each), RopCreateAttachment with its
        properties and RopSaveChangesAttachment, RopSaveChangesMessage, RopSubmitMessage."""
        rows = [{"RowId": i, "RecipientType": 1, "RecipientRow": {
            "RecipientFlags": 0x0001 | 0x0008 | 0x0010 | 0x0200, "AddressPrefixUsed": 0, "DisplayType": 0,
            "X500DN": dn, "EmailAddress": smtp, "DisplayName": name, "RecipientColumnCount": 1,
            "RecipientProperties": {"Flag": 0, "ValueArray": [{"PropertyValue": smtp}]}}}
            for i, (name, dn, smtp) in enumerate(to)]
        rops = [
            Rop("RopCreateMessage", {"CodePageId": 0x0FFF, "FolderId": object_id(self.mailbox.folders[OUTBOX]),
                                     "AssociatedFlag": 0}, on="logon", out="draft"),
            Rop("RopSetProperties", {"PropertyValues": [prop(PidTagMessageClass, "IPM.Note"), prop(PidTagSubject, subject),
                                                        prop(PidTagBody, body), prop(PidTagImportance, 1)]}, on="draft"),
            Rop("RopModifyRecipients", {"RecipientColumns": tags(PidTagSmtpAddress), "RecipientRows": rows}, on="draft")]
        if attachment:
            name, data = attachment
            rops += [Rop("RopCreateAttachment", {}, on="draft", out="attachment"),
                     Rop("RopSetProperties", {"PropertyValues": [prop(PidTagAttachMethod, 1),
                                                                 prop(PidTagAttachLongFilename, name),
                                                                 prop(PidTagAttachDataBinary, data)]}, on="attachment"),
                     Rop("RopSaveChangesAttachment", {"SaveFlags": 0x0A}, on="attachment"),
                     Rop("RopRelease", on="attachment")]
        rops += [Rop("RopSaveChangesMessage", {"SaveFlags": 0x0A}, on="draft"),
                 Rop("RopSubmitMessage", {"SubmitFlags": 0}, on="draft"),
                 Rop("RopRelease", on="draft")]
        self.mailbox.execute(rops)
        self.log(f"sent {subject!r} to " + ", ".join(smtp for _, _, smtp in to))

    def resolve(self, name: str) -> tuple[str, str, str]:
        """ResolveNames (MS-OXCMAPIHTTP 2.2.5.14): (display name, EssDN, SMTP address) of `name`."""
        value = self.address_book.call("ResolveNames", {
            "Reserved": 0, "HasState": 1, "State": stat(), "HasPropertyTags": 1,
            "PropertyTags": large_tag_array(PidTagDisplayName, PidTagEmailAddress, PidTagSmtpAddress),
            "HasNames": 1, "NameValues": [name]})
        if not value.HasRowsAndCols or not value.RowData:
            raise MapiwireError(f"ResolveNames found no one called {name!r}")
        display, dn, smtp = [v.PropertyValue if v.get("PropertyValue") is not None else None
                             for v in value.RowData[0].ValueArray]
        return display, dn, smtp

    def subscribe(self, folder: str = "inbox") -> None:
        """RopRegisterNotification for new mail and created objects in a folder (MS-OXCNOTIF 2.2.1.2)."""
        self.mailbox.execute([Rop("RopRegisterNotification", {
            "NotificationTypes": NEW_MAIL | OBJECT_CREATED, "Reserved": 0, "WantWholeStore": 0,
            "FolderId": object_id(self.folder_ids[folder]), "MessageId": {"ReplicaId": 0, "GlobalCounter": bytes(6)}},
            on="logon", out=f"{folder}-notify")])

    def collect(self) -> list:
        """After EventPending: an Execute with no ROPs carries the RopNotify responses (MS-OXCMAPIHTTP 3.1.5.5)."""
        result = self.mailbox.execute([])
        self.notifications += result.notifications
        return result.notifications

    def switch_network(self, address: str | None) -> None:
        """A network switch: both sessions go on over new connections (from `address`, when the
        server is on loopback), the old ones reset; the context cookies stay."""
        address = address if is_loopback(self.base_url) else None
        for part in (self.mailbox, self.address_book):
            if part is not None:
                part.session.new_connection(source_address=address, how="rst")
        self.log("network switch: new connections" + (f" from {address}" if address else ""))

    def close(self) -> None:
        """Disconnect and Unbind, as Outlook does when it exits; a context the server already
        dropped (10, or 6) has nothing left to end."""
        for part, end in ((self.mailbox, "disconnect"), (self.address_book, "unbind")):
            if part is None:
                continue
            try:
                getattr(part, end)()
            except MapiHttpError as exc:
                if not exc.context_lost:
                    raise
                self.log(f"{end}: the context had already expired")
            part.session.close()


# -- the profiles ----------------------------------------------------------------------------

def startup(client: OutlookClient) -> None:
    """Autodiscover, address book, Connect, Logon, special folders, the folder hierarchy."""
    client.autodiscover()
    client.open_address_book()
    client.open_mailbox()
    client.hierarchy()


def browse(client: OutlookClient, messages: int = 3) -> None:
    """The Inbox's contents table, the newest messages with their bodies, named properties."""
    if client.mailbox is None:
        startup(client)
    rows = client.contents("inbox")
    for row in rows[:messages]:
        client.read_message("inbox", row[0])
    client.named_properties()


def send(client: OutlookClient, to: str | None = None, subject: str | None = None) -> str:
    """A message with a recipient and an attachment, submitted; returns its subject. `to` is
    resolved through the address book (default: the user themself)."""
    if client.mailbox is None:
        startup(client)
    recipient = client.resolve(to or client.email)
    subject = subject or f"mapiwire test message {time.strftime('%H:%M:%S')}"
    body = "Hello,\r\n\r\nthis message was sent by mapiwire's Outlook-like client.\r\n"
    client.send([recipient], subject, body, ("notes.txt", b"line one\r\nline two\r\n"))
    return subject


def delivered(client: OutlookClient, subject: str, wait: float = 5.0) -> bool:
    """Whether a message with `subject` is in the client's Inbox (polls up to `wait` seconds)."""
    deadline = time.monotonic() + wait
    while True:
        if any(row[1] == subject for row in client.contents("inbox")):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def other_device(client: OutlookClient) -> OutlookClient:
    """The same user on another device (its own client instance and session contexts); its
    exchanges go to the same list."""
    return OutlookClient(client.base_url, client.auth, email=client.email, source_address=client.source_address,
                         exchanges=client.exchanges, log=client.log, **client.connection_options)


def idle(client: OutlookClient, pings: int = 2, ping_interval: float = 0.5, deliver=None) -> int:
    """Subscribe to the Inbox, park a NotificationWait on its own connection, get woken by a
    delivery (`deliver()`, default: the user's other device sends them a message), collect the
    RopNotify with an empty Execute, then keep the context alive with PINGs. Returns the
    notifications collected."""
    if client.mailbox is None:
        startup(client)
    client.subscribe("inbox")
    mailbox = client.mailbox
    waiter = mailbox.session.open_connection()
    outcome: dict = {}

    def park():
        try:
            outcome["pending"] = mailbox.wait(connection=waiter, timeout=600)
        except MapiwireError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=park, daemon=True)
    thread.start()
    time.sleep(0.2)  # the long poll is parked before the event happens
    if deliver is None:
        sender = other_device(client)
        send(sender, subject="mapiwire idle wake-up")
        sender.close()
    else:
        deliver()
    thread.join(timeout=30)
    waiter.close()
    if "error" in outcome:
        raise outcome["error"]
    if outcome.get("pending") != 1:
        raise MapiwireError(f"NotificationWait ended without EventPending ({outcome})")
    notes = client.collect()
    client.log(f"idle: woken, {len(notes)} notification(s)")
    for _ in range(pings):
        time.sleep(ping_interval)
        mailbox.ping()
    return len(notes)


def day(client: OutlookClient, gap: float = 2.0, switch_addresses=("127.0.0.2", "127.0.0.3")) -> None:
    """A working day: startup, browse, a network switch, send, idle, a long idle gap (past the
    server's session timeout, the next request gets 10 and the client reconnects and reopens),
    another switch, browse again, then Disconnect and Unbind."""
    startup(client)
    browse(client)
    client.switch_network(switch_addresses[0])
    subject = send(client)
    idle(client)
    client.log(f"idle gap of {gap} s")
    time.sleep(gap)
    client.switch_network(switch_addresses[1])
    browse(client, messages=1)
    if not delivered(client, subject, wait=2.0):
        raise MapiwireError(f"the message {subject!r} did not arrive")
    client.close()


def run_profile(name: str, client: OutlookClient, **options) -> None:
    """Run one profile by name; startup/browse/send/idle end with Disconnect and Unbind."""
    if name not in PROFILES:
        raise MapiwireError(f"unknown profile {name!r} (one of {', '.join(PROFILES)})")
    if name == "day":
        day(client, **options)
        return
    outcome = {"startup": startup, "browse": browse, "send": send, "idle": idle}[name](client, **options)
    if name == "send" and not options.get("to") and not delivered(client, outcome):
        raise MapiwireError(f"the message {outcome!r} sent to oneself did not arrive in the Inbox")
    client.close()


__all__ = ["NoMapiHttp", "OutlookClient", "PROFILES", "browse", "day", "delivered", "idle", "run_profile", "send",
           "startup"]
