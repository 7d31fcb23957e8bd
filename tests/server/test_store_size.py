"""Props keep their size as values change (MS-OXCMSG 2.2.1.7 PidTagMessageSize counts them)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from mapiwire.server.rops.objects import LogonObject, View, view_of
from mapiwire.server.store import TAG, Props, Store, value_size

VALUES = st.one_of(st.integers(-2**31, 2**31 - 1), st.text(max_size=20), st.binary(max_size=20),
                   st.lists(st.one_of(st.text(max_size=5), st.integers(0, 9)), max_size=4), st.booleans())
OPERATIONS = st.lists(st.tuples(st.booleans(), st.integers(1, 6), VALUES), max_size=30)


def walked(props: Props) -> int:
    return sum(value_size(value) for _, value in props.values.values())


@settings(max_examples=200, deadline=None)
@given(OPERATIONS)
def test_size_follows_set_and_delete(operations):
    props = Props()
    for is_set, prop_id, value in operations:
        tag = (prop_id << 16) | 0x0003
        if is_set:
            props.set(tag, value)
        else:
            props.delete(tag)
        assert props.size == walked(props)
    assert props.copy().size == props.size == Props(props.values).size


def test_message_folder_and_mailbox_sizes_follow_changes_in_place():
    """A stored message changed without save_message (RopSetMessageStatus writes it in place)
    counts right in its own, its folder's and the logon's PidTagMessageSize(Extended)."""
    store = Store.load()
    mailbox = store.mailbox("alice")
    folder = next(f for f in mailbox.folders.values() if f.messages)
    message = next(iter(folder.messages.values()))
    logon = view_of(LogonObject(mailbox, 0, 1))
    size_tag = TAG["PidTagMessageSize"] & 0xFFFF0000  # PtypUnspecified: Integer32 of a message or folder,
    # Integer64 (PidTagMessageSizeExtended) of the logon

    def walked_message(m):
        return (walked(m.props) + sum(walked(r.props) for r in m.recipients)
                + sum(walked(a.props) for a in m.attachments.values()))

    def check():
        assert View(mailbox, message).typed(size_tag)[1] == walked_message(message)
        assert View(mailbox, folder).typed(size_tag)[1] == sum(walked_message(m) for m in folder.messages.values())
        assert logon.typed(size_tag)[1] == sum(walked_message(m) for f in mailbox.folders.values()
                                          for m in f.messages.values())

    check()
    before = logon.typed(size_tag)[1]
    message.props.set(TAG["PidTagSubject"], "x" * 100)
    check()
    assert logon.typed(size_tag)[1] > before
    message.props.delete(TAG["PidTagSubject"])
    next(iter(message.recipients)).props.set(TAG["PidTagDisplayName"], "someone else entirely")
    check()


def test_a_cloned_message_equals_its_deep_copy_and_shares_nothing_that_changes():
    """Working copies (MS-OXCMSG 3.2.5.3) are clones: a change to one never reaches the stored message."""
    import copy

    store = Store.load()
    messages = [m for mb in store.mailboxes.values() for f in mb.folders.values() for m in f.messages.values()]
    for message in messages:
        clone, deep = message.clone(), copy.deepcopy(message)
        assert (clone.mid, clone.folder_id, clone.next_attachment, clone.associated) == \
            (deep.mid, deep.folder_id, deep.next_attachment, deep.associated)
        assert clone.props.size == message.props.size

        def rows(m):
            return (m.props.values, [(r.row_id, r.recipient_type, r.props.values) for r in m.recipients],
                    {n: (a.number, a.props.values) for n, a in m.attachments.items()})
        assert rows(clone) == rows(deep)
        clone.props.set(TAG["PidTagSubject"], "changed")
        clone.recipients.clear()
        for attachment in clone.attachments.values():
            attachment.props.set(TAG["PidTagAttachLongFilename"], "changed.txt")
        for _, value in clone.props.values.values():
            if isinstance(value, list):
                value.append("changed")
        assert rows(message) == rows(deep)
