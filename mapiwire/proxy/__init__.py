"""`mapiwire proxy`: MAPI/HTTP decoded live through mitmproxy (an addon and a content view).

mitmproxy does the proxying (TLS interception with its own CA, HTTP/1.1 and HTTP/2, regular,
upstream and reverse modes); this package only adapts its flows to the dissector's `Exchange`
(`flows.py`), decodes them with the dissector's `Decoder` and records them with its writers
(`addon.py`), shows the decoded tree in mitmproxy's UIs (`contentview.py`) and runs mitmproxy's
proxy core in-process for the CLI (`run.py`). `script.py` is the file `mitmproxy -s` loads.
"""
