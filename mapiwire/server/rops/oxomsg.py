"""MS-OXOMSG handlers: transport ROPs (MS-OXCROPS 2.2.7).

RopSubmitMessage delivers within the server: every recipient that is a user of the store gets
a copy in its Inbox (which fires that mailbox's notifications); the sender's copy goes to Sent
Items, or away with PidTagDeleteAfterSubmit. Outside addresses are accepted and not delivered.
"""

from __future__ import annotations

from ..store import (MF_READ, MF_SUBMITTED, MF_UNSENT, OUTBOX, SENT_ITEMS, TAG, Mailbox, Message, Props,
                     QuotaExceeded, filetime, id_struct)
from .base import EC_ACCESS_DENIED, RopError, handler
from .objects import LogonObject, MessageObject

EC_NO_RECIPIENTS = 0x80040607  # MS-OXCDATA 2.4.2 NoRecipients
EC_SUBMITTED = 0x80040608  # MS-OXCDATA 2.4.1 ecSubmitted: already submitted
ADDRESS_TYPES = ["EX", "SMTP"]


@handler(0x32)
def rop_submit_message(session, rop, ctx) -> dict:
    """MS-OXOMSG 2.2.3.1 RopSubmitMessage: saves the message, delivers it to the store's users
    among its recipients and files the sender's copy in Sent Items."""
    obj = session.get(ctx, rop, kind=MessageObject)
    if not obj.writable:
        raise RopError(EC_ACCESS_DENIED)
    if obj.submitted:
        raise RopError(EC_SUBMITTED)
    message = obj.message
    if not message.recipients:
        raise RopError(EC_NO_RECIPIENTS)
    sender = session.user
    now = filetime()
    props = message.props
    for kind in ("Sender", "SentRepresenting"):
        props.set(TAG[f"PidTag{kind}Name"], sender.display_name)
        props.set(TAG[f"PidTag{kind}AddressType"], "EX")
        props.set(TAG[f"PidTag{kind}EmailAddress"], sender.dn)
        props.set(TAG[f"PidTag{kind}SmtpAddress"], sender.smtp)
    props.set(TAG["PidTagClientSubmitTime"], now)
    props.set(TAG["PidTagMessageDeliveryTime"], now)
    flags = int(props.values.get(TAG["PidTagMessageFlags"] >> 16, (0, 0))[1])
    props.set(TAG["PidTagMessageFlags"], (flags | MF_READ) & ~(MF_UNSENT | MF_SUBMITTED))
    obj.submitted = True
    addresses = []
    for recipient in message.recipients:
        values = recipient.props.values
        addresses.append(values.get(TAG["PidTagSmtpAddress"] >> 16, (0, None))[1]
                         or values.get(TAG["PidTagEmailAddress"] >> 16, (0, None))[1])
    for target in session.store.resolve_recipients(addresses):
        try:
            target.deliver(copy_to(obj.mailbox, message, target))
        except QuotaExceeded:  # a full mailbox gets nothing; the others still do
            continue
    _file_sent_copy(obj.mailbox, message)
    return {}


def copy_to(source: Mailbox, message: Message, target: Mailbox) -> Message:
    """The delivered copy: a new id in the target mailbox, unread, named properties mapped to the
    target's ids (MS-OXCPRPT 2.2.12: ids are per mailbox)."""
    delivered = message.clone()
    delivered.mid = target.allocate_id()
    values = {}
    for prop_id, (ptype, value) in delivered.props.values.items():
        if prop_id >= 0x8000:
            name = source.named_names.get(prop_id)
            prop_id = target.named_id(name, create=True) if name else 0
            if not prop_id:
                continue
        values[prop_id] = (ptype, value)
    delivered.props = Props(values)
    flags = int(values.get(TAG["PidTagMessageFlags"] >> 16, (0, 0))[1])
    delivered.props.set(TAG["PidTagMessageFlags"], flags & ~MF_READ)
    return delivered


def _file_sent_copy(mailbox: Mailbox, message: Message) -> None:
    """The sender's copy: Sent Items, or nowhere with PidTagDeleteAfterSubmit (MS-OXOMSG 2.2.3.8)."""
    folder_id = message.folder_id
    if folder_id in mailbox.folders and message.mid in mailbox.folders[folder_id].messages:
        mailbox.delete_message(folder_id, message.mid)
    if message.props.values.get(TAG["PidTagDeleteAfterSubmit"] >> 16, (0, False))[1]:
        return
    sent = message.clone()
    sent.folder_id = mailbox.special[SENT_ITEMS]
    mailbox.save_message(sent)


@handler(0x49)
def rop_get_address_types(session, rop, ctx) -> dict:
    """MS-OXCROPS 2.2.7.3 RopGetAddressTypes: the address types this server delivers to."""
    session.get(ctx, rop, kind=LogonObject)
    return {"AddressTypes": ADDRESS_TYPES}


@handler(0x6D)
def rop_get_transport_folder(session, rop, ctx) -> dict:
    """MS-OXCROPS 2.2.7.8 RopGetTransportFolder: the folder submitted messages wait in, the Outbox."""
    logon = session.get(ctx, rop, kind=LogonObject)
    return {"FolderId": id_struct(logon.mailbox.special[OUTBOX])}
