"""Tiny stand-ins for the STORE and ADDRESS BOOK objects, so the HTTP front's tests exercise
the front alone (the real ones are tested by their own files and end to end)."""

from __future__ import annotations

from mapiwire.samples import INBOX
from mapiwire.server.store import User

ORG = {"name": "mapiwire", "domain": "mapiwire.test",
       "dn_prefix": "/o=mapiwire/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"}


class FakeStore:
    organization = ORG

    def __init__(self):
        self.users = [User(a, a.title(), f"{a}@mapiwire.test", f"{a}-pw", f"{ORG['dn_prefix']}/cn=Recipients/cn={a}")
                      for a in ("alice", "bob", "carol", "dave")]
        self.mailboxes: list = []

    def user(self, name: str):
        name = name.lower()
        for u in self.users:
            if name in (u.alias, u.smtp, u.dn.lower(), f"mapiwire\\{u.alias}"):
                return u
        return None


class FakeMailbox:
    """Answers RopGetReceiveFolder (echoing the MessageClass as ExplicitMessageClass) and
    RopRelease; anything else ecNotSupported would need a real handler, so the tests do not send it.
    `notify()` queues an event the way a delivery would."""

    def __init__(self, store, user):
        self.user = user
        self.on_event = None
        self.pending = False
        self.closed = False
        store.mailboxes.append(self)

    def execute(self, rops, handles, max_rop_out):
        out = []
        for rop in rops:
            if rop["RopId"] == 0x27:
                out.append({"RopId": 0x27, "InputHandleIndex": rop["InputHandleIndex"], "ReturnValue": 0,
                            "FolderId": INBOX, "ExplicitMessageClass": rop["MessageClass"]})
        self.pending = False
        return out, list(handles)

    def events_pending(self):
        return self.pending

    def notify(self):
        self.pending = True
        if self.on_event:
            self.on_event()

    def close(self):
        self.closed = True


class FakeAddressBook:
    def __init__(self, store, user, *, mailbox_url, addressbook_url):
        self.user, self.mailbox_url = user, mailbox_url

    def handle(self, request_type, request):
        ok = {"StatusCode": 0, "ErrorCode": 0, "AuxiliaryBuffer": {"Blocks": []}}
        if request_type == "Bind":
            return {**ok, "ServerGuid": "{DCA740C8-C042-101A-B4B9-08002B2FE182}"}
        if request_type == "GetMailboxUrl":
            return {**ok, "ServerUrl": self.mailbox_url}
        return ok


def fake_autodiscover(body, *, store, internal_url, external_url, mapi_http, capability=None):
    text = f"<Autodiscover mapiHttp='{mapi_http}'>{internal_url}</Autodiscover>"
    return 200, "text/xml", text.encode()


FAKES = dict(store=None, mailbox_factory=FakeMailbox, addressbook_factory=FakeAddressBook,
             autodiscover=fake_autodiscover)


def fakes() -> dict:
    """running_server keyword arguments that plug the fakes in (a fresh store each time)."""
    return {**FAKES, "store": FakeStore()}
