"""The addon file for those who run mitmproxy or mitmweb themselves:

    mitmproxy -s "$(mapiwire proxy --addon-path)" [--set mapiwire_save=session.har]

Adds the "MAPI/HTTP" content view and names each MAPI/HTTP flow's request type and ROPs in its
comment; nothing is printed (mitmproxy owns the terminal).
"""

from mapiwire.proxy.addon import MapiAddon
from mapiwire.proxy.contentview import register

_addon = MapiAddon(out=None)
register(_addon.record_of)
addons = [_addon]
