"""The fixture JSON that seeds the store (server-contract.md), and the message builder the
fixture and RopSubmitMessage's delivery share.

Inside `mailboxes.<alias>`: `folders` (`{"path": "Inbox/Projects", "class": "IPF.Note"}`, paths
from the IPM subtree, MS-OXOSFLD 2.2.2) and `messages` (`folder`, `subject`, `from`, `to`, `cc`,
`received` ISO 8601, `body`, `read`, `importance`, `flagged`, `categories`, `attachments` with
`name`, `mime` and `text` or `hex`). Addresses are aliases or SMTP addresses of fixture users
or outside SMTP addresses.
"""

from __future__ import annotations

import datetime
import json
from importlib import resources

from .store import (MF_HAS_ATTACH, MF_READ, PS_PUBLIC_STRINGS, RECIPIENT_BCC, RECIPIENT_CC, RECIPIENT_TO, TAG,
                    Attachment, Mailbox, Message, Props, Recipient, Store, User, filetime)

KEYWORDS = {"Kind": 0x01, "GUID": PS_PUBLIC_STRINGS, "Name": "Keywords"}  # PidNameKeywords, MS-OXPROPS 2.448
MAPI_MAILUSER = 0x06  # MS-OXCPRPT 2.2.1.7 PidTagObjectType of a recipient
ATTACH_BY_VALUE = 0x0001  # MS-OXCMSG 2.2.2.9 PidTagAttachMethod afByValue
FLAGGED = 2  # MS-OXOFLAG 2.2.1.1 PidTagFlagStatus followupFlagged


def load_fixture(path: str | None = None) -> Store:
    """A Store from a fixture file; None reads the packaged server/data/fixture.json."""
    if path is None:
        text = resources.files(__package__).joinpath("data/fixture.json").read_text(encoding="utf-8")
    else:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    return store_from_fixture(json.loads(text))


def store_from_fixture(data: dict) -> Store:
    """Users (alias required; display name and SMTP address default from it) and their mailboxes."""
    organization = dict(data["organization"])
    prefix = organization["dn_prefix"]
    users = []
    for entry in data["users"]:
        known = {"alias", "display_name", "smtp", "password"}
        alias = entry["alias"]
        users.append(User(alias=alias, display_name=entry.get("display_name", alias),
                          smtp=entry.get("smtp", f"{alias}@{organization['domain']}"),
                          password=entry.get("password", ""), dn=f"{prefix}/cn=Recipients/cn={alias}",
                          extra={k: v for k, v in entry.items() if k not in known}))
    store = Store(organization, users)
    for alias, content in (data.get("mailboxes") or {}).items():
        mailbox = store.mailbox(alias)
        if mailbox is None:
            raise ValueError(f"fixture mailbox {alias!r} has no user")
        for spec in content.get("folders", ()):
            _ensure_path(mailbox, spec["path"], spec.get("class", "IPF.Note"))
        for spec in content.get("messages", ()):
            folder = mailbox.folder_by_path(spec.get("folder", "Inbox"))
            if folder is None:
                raise ValueError(f"fixture message in unknown folder {spec.get('folder')!r}")
            message = fixture_message(store, mailbox, folder.fid, spec)
            folder.messages[message.mid] = message
            mailbox.message_count += 1
    return store


def _ensure_path(mailbox: Mailbox, path: str, container_class: str) -> None:
    parent = mailbox.folder_by_path("")
    for part in filter(None, path.split("/")):
        folder = mailbox.find_folder(parent.fid, part)
        parent = folder or mailbox.create_folder(parent.fid, part, container_class=container_class)


def _time(text: str | None) -> int:
    if not text:
        return filetime()
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return filetime(moment.timestamp())


def address_props(store: Store, address: str) -> Props:
    """Display name, address type and addresses of a fixture user or an outside SMTP address."""
    user = store.user(address)
    props = Props()
    if user is not None:
        props.set(TAG["PidTagDisplayName"], user.display_name)
        props.set(TAG["PidTagAddressType"], "EX")
        props.set(TAG["PidTagEmailAddress"], user.dn)
        props.set(TAG["PidTagSmtpAddress"], user.smtp)
    else:
        props.set(TAG["PidTagDisplayName"], address)
        props.set(TAG["PidTagAddressType"], "SMTP")
        props.set(TAG["PidTagEmailAddress"], address)
        props.set(TAG["PidTagSmtpAddress"], address)
    return props


def recipient(store: Store, address: str, recipient_type: int, row_id: int) -> Recipient:
    """A recipient row's properties (MS-OXCMSG 2.2.1.4, MS-OXOMSG 2.2.1.4)."""
    props = address_props(store, address)
    props.set(TAG["PidTagRecipientType"], recipient_type)
    props.set(TAG["PidTagRowid"], row_id)
    props.set(TAG["PidTagDisplayType"], 0)
    props.set(TAG["PidTagObjectType"], MAPI_MAILUSER)
    props.set(TAG["PidTagRecipientDisplayName"], props.values[0x3001][1])
    return Recipient(row_id, recipient_type, props)


def fixture_message(store: Store, mailbox: Mailbox, folder_id: int, spec: dict) -> Message:
    """A message of the fixture, with the properties Outlook reads (MS-OXCMSG 2.2.1, MS-OXOMSG 2.2.1)."""
    message = Message(mailbox.allocate_id(), folder_id, Props())
    props = message.props
    subject = spec.get("subject", "")
    sent = _time(spec.get("received"))
    props.set(TAG["PidTagMessageClass"], spec.get("class", "IPM.Note"))
    props.set(TAG["PidTagSubject"], subject)
    prefix = subject[:4] if subject[:4].upper() in ("RE: ", "FW: ") else ""
    props.set(TAG["PidTagSubjectPrefix"], prefix)
    props.set(TAG["PidTagNormalizedSubject"], subject[len(prefix):])
    props.set(TAG["PidTagConversationTopic"], subject[len(prefix):])
    props.set(TAG["PidTagBody"], spec.get("body", ""))
    props.set(TAG["PidTagImportance"], int(spec.get("importance", 1)))
    props.set(TAG["PidTagMessageDeliveryTime"], sent)
    props.set(TAG["PidTagClientSubmitTime"], sent)
    props.set(TAG["PidTagCreationTime"], sent)
    props.set(TAG["PidTagLastModificationTime"], sent)
    domain = store.organization["domain"]
    props.set(TAG["PidTagInternetMessageId"], f"<{message.mid:016x}.{mailbox.user.alias}@{domain}>")
    sender = address_props(store, spec.get("from", mailbox.user.alias))
    for kind in ("Sender", "SentRepresenting"):
        props.set(TAG[f"PidTag{kind}Name"], sender.values[0x3001][1])
        props.set(TAG[f"PidTag{kind}AddressType"], sender.values[0x3002][1])
        props.set(TAG[f"PidTag{kind}EmailAddress"], sender.values[0x3003][1])
        props.set(TAG[f"PidTag{kind}SmtpAddress"], sender.values[0x39FE][1])
    row = 0
    for recipient_type, key in ((RECIPIENT_TO, "to"), (RECIPIENT_CC, "cc"), (RECIPIENT_BCC, "bcc")):
        for address in spec.get(key, ()):
            message.recipients.append(recipient(store, address, recipient_type, row))
            row += 1
    for entry in spec.get("attachments", ()):
        data = bytes.fromhex(entry["hex"]) if "hex" in entry else entry.get("text", "").encode("utf-8")
        add_attachment(message, entry["name"], data, entry.get("mime", "application/octet-stream"))
    flags = (MF_READ if spec.get("read", True) else 0) | (MF_HAS_ATTACH if message.attachments else 0)
    props.set(TAG["PidTagMessageFlags"], flags)
    if spec.get("flagged"):
        props.set(TAG["PidTagFlagStatus"], FLAGGED)
    if spec.get("categories"):
        prop_id = mailbox.named_id(KEYWORDS, create=True)
        props.set((prop_id << 16) | 0x101F, list(spec["categories"]))
    return message


def add_attachment(message: Message, name: str, data: bytes, mime: str) -> Attachment:
    """An attachment by value (MS-OXCMSG 2.2.2)."""
    attachment = Attachment(message.next_attachment, Props())
    message.next_attachment += 1
    props = attachment.props
    props.set(TAG["PidTagAttachNumber"], attachment.number)
    props.set(TAG["PidTagAttachMethod"], ATTACH_BY_VALUE)
    props.set(TAG["PidTagAttachLongFilename"], name)
    props.set(TAG["PidTagAttachFilename"], name[:12])
    props.set(TAG["PidTagDisplayName"], name)
    props.set(TAG["PidTagAttachExtension"], "." + name.rsplit(".", 1)[-1] if "." in name else "")
    props.set(TAG["PidTagAttachMimeTag"], mime)
    props.set(TAG["PidTagAttachDataBinary"], data)
    props.set(TAG["PidTagRenderingPosition"], -1)
    message.attachments[attachment.number] = attachment
    return attachment
