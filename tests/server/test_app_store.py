"""End to end with the STORE's real MailboxSession behind the front, over real sockets: bob's
NotificationWait (MS-OXCMAPIHTTP 3.2.5.5) is woken when alice's RopSubmitMessage delivers to him,
and his next Execute, with no ROPs, collects the RopNotify (MS-OXCNOTIF 3.2.5.4)."""

from __future__ import annotations

import threading
import time

from mapiwire.server import running_server

from .front_client import MapiClient

NO_HANDLE = 0xFFFFFFFF
OUTBOX = 5  # MS-OXCSTOR 2.2.1.1.3: the index of the Outbox in RopLogon's FolderIds
NEW_MAIL = 0x0002  # MS-OXCNOTIF 2.2.1.2.1.1 NotificationTypes
PID_TAG_SUBJECT, PID_TAG_SMTP_ADDRESS = 0x0037001F, 0x39FE001F


def tag(value: int) -> dict:
    return {"PropertyType": value & 0xFFFF, "PropertyId": value >> 16}


def logon(client: MapiClient, user) -> tuple[int, list]:
    """RopLogon (MS-OXCROPS 2.2.3.1) of the user's private mailbox: its handle and FolderIds."""
    rops = [{"RopId": 0xFE, "LogonId": 0, "OutputHandleIndex": 0, "LogonFlags": 0x01, "OpenFlags": 0x0100040C,
             "StoreState": 0, "Essdn": user.dn}]
    reply = client.execute(rops, [NO_HANDLE], flags=0)
    value = reply.body("Execute", request_rops=rops).RopBuffer
    assert value.RopsList[0].ReturnValue == 0
    return value.ServerObjectHandleTable[0], value.RopsList[0].FolderIds


def test_notification_wait_woken_by_a_delivered_message():
    with running_server(pending_period=0.1, notification_wait_limit=5) as srv:
        alice, bob = srv.store.user("alice"), srv.store.user("bob")
        bob_client, alice_client = MapiClient(srv.url), MapiClient(srv.url)
        assert bob_client.connect(bob.dn).code == 0 and alice_client.connect(alice.dn).code == 0
        bob_logon, _ = logon(bob_client, bob)
        register = [{"RopId": 0x29, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1,
                     "NotificationTypes": NEW_MAIL, "WantWholeStore": 1}]
        reply = bob_client.execute(register, [bob_logon, NO_HANDLE])
        assert reply.body("Execute", request_rops=register).RopBuffer.RopsList[0].ReturnValue == 0

        waiter = MapiClient(srv.url)
        waiter.cookies = dict(bob_client.cookies)
        woken = {}

        def wait():
            t0 = time.monotonic()
            woken["reply"], woken["seconds"] = waiter.notification_wait(keep_cookies=False), time.monotonic() - t0

        thread = threading.Thread(target=wait)
        thread.start()
        time.sleep(0.3)
        alice_logon, folders = logon(alice_client, alice)
        rows = [{"RowId": 0, "RecipientType": 1, "RecipientRow": {
            "RecipientFlags": 0x0001 | 0x0008 | 0x0010 | 0x0200, "AddressPrefixUsed": 0, "DisplayType": 0,
            "X500DN": bob.dn, "EmailAddress": bob.smtp, "DisplayName": bob.display_name, "RecipientColumnCount": 1,
            "RecipientProperties": {"Flag": 0, "ValueArray": [{"PropertyValue": bob.smtp}]}}}]
        send = [
            {"RopId": 0x06, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1, "CodePageId": 0x0FFF,
             "FolderId": folders[OUTBOX], "AssociatedFlag": 0},
            {"RopId": 0x0A, "LogonId": 0, "InputHandleIndex": 1,
             "PropertyValues": [{"PropertyTag": tag(PID_TAG_SUBJECT), "PropertyValue": "lunch?"}]},
            {"RopId": 0x0E, "LogonId": 0, "InputHandleIndex": 1, "RecipientColumns": [tag(PID_TAG_SMTP_ADDRESS)],
             "RecipientRows": rows},
            {"RopId": 0x0C, "LogonId": 0, "ResponseHandleIndex": 1, "InputHandleIndex": 1, "SaveFlags": 0x0A},
            {"RopId": 0x32, "LogonId": 0, "InputHandleIndex": 1, "SubmitFlags": 0},
        ]
        reply = alice_client.execute(send, [alice_logon, NO_HANDLE])
        assert [r.ReturnValue for r in reply.body("Execute", request_rops=send).RopBuffer.RopsList] == [0] * 5
        thread.join(timeout=10)
        assert woken["reply"].body("NotificationWait").EventPending == 1 and woken["seconds"] < 3
        collected = bob_client.post("emsmdb", "Execute", b"")  # the empty Execute of 3.1.5.5
        rops = collected.body("Execute").RopBuffer.RopsList
        assert [r.RopName for r in rops] and {r.RopName for r in rops} == {"RopNotify"}
