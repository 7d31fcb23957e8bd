"""The `mapiwire` command line: dissect, decode, sessions, stats, serve, client, probe, replay, report, proxy, export."""

from __future__ import annotations

import functools
import json
import os
import sys

import click

from .errors import MapiwireError


@click.group()
@click.version_option(package_name="mapiwire")
def main():
    """MAPI over HTTP (MS-OXCMAPIHTTP): dissect captures, serve, probe, replay, proxy."""


def _exchanges(path, keylog, tls):
    """The capture's exchanges, with a progress bar on stderr when it is a terminal."""
    from .dissect.sources import Progress, open_capture

    progress = Progress()
    exchanges = _tls_told(open_capture(path, keylog=keylog, tls=tls, progress=progress))
    if sys.stderr.isatty() and not os.environ.get("MAPIWIRE_NO_PROGRESS"):
        exchanges = _progress(exchanges, path, progress)
    return exchanges


def _tls_told(exchanges):
    """The exchanges; a note that TLS was not decrypted also goes to stderr, whatever the command."""
    for exchange in exchanges:
        if exchange.request is None and exchange.response is None:
            for error in exchange.errors:
                if error.get("where") == "tls":
                    click.echo(f"mapiwire: {error['error']}", err=True)
        yield exchange


def _records(path, keylog, tls):
    from .dissect.decode import Decoder

    decoder = Decoder()
    for exchange in _exchanges(path, keylog, tls):
        record = decoder.decode(exchange)
        if record is not None:
            yield record


def _progress(exchanges, path, progress):
    """A progress bar over the bytes of the file read so far (where the reader tells its position;
    else the bytes of the bodies seen, an estimate)."""
    size = max(1, os.path.getsize(path))
    with click.progressbar(length=size, label="reading", file=sys.stderr) as bar:
        done = 0
        for exchange in exchanges:
            if progress.tell is not None:
                moved = min(size, progress.tell()) - done
            else:
                moved = sum(len(m.body) for m in (exchange.request, exchange.response) if m is not None)
            moved = max(0, min(size - done, moved))
            done += moved
            bar.update(moved)
            yield exchange
        bar.update(size - done)


def _run(fn):
    """Run a command body: a capture that cannot be read at all is a one-line error, exit 2."""
    try:
        fn()
    except MapiwireError as exc:
        click.echo(f"mapiwire: {exc}", err=True)
        sys.exit(2)
    except BrokenPipeError:
        sys.stderr.close()


def _complete_request_types(ctx, param, incomplete):
    """Shell completion of --request-type: the 24 X-RequestType values (MS-OXCMAPIHTTP 2.2.3.1.1)."""
    from .dissect.defs.mapihttp import BODIES

    return [name for name in BODIES if name.lower().startswith(incomplete.lower())]


def _complete_structures(ctx, param, incomplete):
    """Shell completion of decode --as: every structure it decodes."""
    from .dissect.decodeas import STRUCTURES

    return [name for name in sorted(STRUCTURES) if name.startswith(incomplete.lower())]


capture = click.argument("file", type=click.Path(dir_okay=False))
keylog_option = click.option("--keylog", type=click.Path(exists=True, dir_okay=False),
                             help="TLS key log (SSLKEYLOGFILE format) to decrypt a TLS capture through tshark.")
tls_option = click.option("--tls", is_flag=True, help="Decrypt TLS with the secrets embedded in a pcapng (through tshark).")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False), required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "ndjson"]), default="text", show_default=True)
@keylog_option
@tls_option
@click.option("--interface", "-i", help="Capture live on this interface (dumpcap; with --keylog, tshark) instead of FILE.")
@click.option("--filter", "capture_filter", help="Capture filter (BPF) for --interface, e.g. 'tcp port 443'.")
@click.option("--request-type", "request_types", multiple=True, shell_complete=_complete_request_types,
              help="Only these X-RequestType values (repeatable).")
@click.option("--session", "sessions", multiple=True,
              help="Only these sessions (context cookie or a unique prefix of it, repeatable).")
@click.option("--response-code", "response_codes", type=int, multiple=True,
              help="Only exchanges answered with this X-ResponseCode (repeatable).")
@click.option("--errors", "only_errors", is_flag=True,
              help="Only exchanges that failed: decoding errors, X-ResponseCode not 0, HTTP status 400 or more.")
@click.option("--rop", "rops", multiple=True, help="Only Executes with this ROP (RopQueryRows or QueryRows, repeatable).")
@click.option("--client", "clients", multiple=True, help="Only this client address (10.0.0.5 or 10.0.0.5:51234).")
@click.option("--since", help="Only exchanges from this time on (ISO 8601, or a time of day: 16:00:05).")
@click.option("--until", help="Only exchanges up to this time (ISO 8601, or a time of day).")
@click.option("--hex", "hex_bodies", is_flag=True, help="Add each body's bytes as hex (what `decode --as` takes).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Worker processes (sessions are decoded in parallel); default: one per core.")
@click.option("--strict", is_flag=True, help="Raise on the first malformed structure (for developers).")
def dissect(file, fmt, keylog, tls, interface, capture_filter, request_types, sessions, response_codes, only_errors,
            rops, clients, since, until, hex_bodies, jobs, strict):
    """Print every MAPI/HTTP exchange of FILE (pcap, pcapng, HAR, SAZ), or live from --interface."""
    from .dissect.parallel import decode_rendered

    if (file is None) == (interface is None):
        raise click.UsageError("give a capture FILE or --interface, not both")
    workers = 1 if strict or interface else (jobs or min(os.cpu_count() or 1, 4))
    from .dissect.filters import RecordFilter, SessionPrefixes, check_time, rop_key

    record_filter = RecordFilter(
        request_types=frozenset(t.lower() for t in request_types), sessions=frozenset(sessions),
        response_codes=frozenset(response_codes), errors=only_errors, rops=frozenset(rop_key(r) for r in rops),
        clients=frozenset(clients), since=check_time(since, "--since"), until=check_time(until, "--until"))
    render = functools.partial(render_record, fmt, record_filter)

    def body():
        if interface:
            from .dissect.sources.live import live_exchanges

            exchanges = live_exchanges(interface, capture_filter, keylog)
        else:
            exchanges = _exchanges(file, keylog, tls)
        if sessions:
            exchanges = _checked_sessions(exchanges, SessionPrefixes(sessions))
        first = True
        write = sys.stdout.write  # click.echo's checks cost more than a record's JSON encoding
        if fmt == "json":
            write("[")
        for text in decode_rendered(exchanges, render, workers, strict=strict, hex_bodies=hex_bodies):
            if fmt == "json":
                write(("\n" if first else ",\n") + text)
            else:
                write(text + "\n")
            if interface:
                sys.stdout.flush()  # live: each exchange shows as its response ends
            first = False
        if fmt == "json":
            click.echo("\n]" if not first else "]")
        if first and record_filter.active:
            click.echo("mapiwire: no exchange matches the filters", err=True)
        elif first:
            click.echo("mapiwire: no MAPI/HTTP exchange found (a TLS capture needs --keylog or --tls)", err=True)

    _run(body)


def render_record(fmt: str, record_filter, record: dict) -> str | None:
    """One record as `dissect` prints it, or None when the filters (a RecordFilter) leave it out."""
    from .dissect.render import dumps, render_text

    if not record_filter.matches(record):
        return None
    return render_text(record) if fmt == "text" else dumps(record)


def _checked_sessions(exchanges, prefixes):
    """The exchanges, checking on the way that each --session prefix names one session."""
    from .dissect.decode import session_key

    for exchange in exchanges:
        if exchange.request is not None:
            prefixes.see(session_key(exchange))
        yield exchange


@main.command()
@capture
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@keylog_option
@tls_option
def sessions(file, fmt, keylog, tls):
    """One line per MAPI session: cookie, client addresses, endpoints, requests, idle gaps."""
    from .dissect.summary import Sessions

    def body():
        table = Sessions()
        for record in _records(file, keylog, tls):
            table.add(record)
        click.echo(json.dumps(table.result(), indent=2) if fmt == "json" else table.text())

    _run(body)


@main.command()
@capture
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@keylog_option
@tls_option
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Worker processes, each following a share of the TCP connections of a plain pcap/pcapng; "
                   "default: one per core.")
def stats(file, fmt, keylog, tls, jobs):
    """Counts per request type and X-ResponseCode, latency percentiles, PENDING counts."""
    from .dissect.sources import shardable
    from .dissect.summary import Stats, shared_stats, transport_records

    workers = jobs or min(os.cpu_count() or 1, 4)

    def body():
        if workers > 1 and shardable(file, keylog, tls):
            table = shared_stats(file, workers, _tls_told)
        else:
            table = Stats()
            for record in transport_records(_exchanges(file, keylog, tls)):
                table.add(record)
        click.echo(json.dumps(table.result(), indent=2) if fmt == "json" else table.text())

    _run(body)


@main.command()
@click.option("--as", "structure", required=True, metavar="STRUCTURE", shell_complete=_complete_structures,
              help="What the bytes are: rop-request, rop-response, rop-buffer, rpc-ext, aux, "
                   "<type>-request, <type>-response (type: connect, execute, bind, getmatches, ...).")
@click.argument("hex_parts", nargs=-1, required=True, metavar="HEX...")
@click.option("--request", "request_hex", help="The request ROPs (hex) a rop-response or rop-buffer answers.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def decode(structure, hex_parts, request_hex, fmt):
    """Decode one buffer given as hex (spaces allowed) or @FILE with raw bytes."""
    from .dissect.decodeas import STRUCTURES, decode_as, read_hex
    from .dissect.render import dumps, render_tree

    def body():
        if structure not in STRUCTURES:
            raise click.BadParameter(f"unknown structure {structure!r}; one of: {', '.join(sorted(STRUCTURES))}",
                                     param_hint="--as")
        data = read_hex(hex_parts)
        request = read_hex([request_hex]) if request_hex else None
        result = decode_as(structure, data, request)
        if fmt == "json":
            click.echo(dumps(result, indent=2))
        else:
            click.echo(render_tree(result))
        if result["errors"]:
            sys.exit(1)  # the bytes did not decode as that structure: say so to scripts too

    _run(body)


@main.command()
@click.argument("what", type=click.Choice(["lua"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def export(what, output):
    """Generate a product from the protocol definitions: `lua` is the Wireshark plugin."""
    from .wireshark.luagen import generate

    text = generate()
    if output:
        with open(output, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    else:
        click.echo(text, nl=False)


@main.command()
@click.option("--listen-host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--listen-port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--mode", default="regular", show_default=True, metavar="MODE",
              help="mitmproxy mode: regular (Outlook's system proxy), upstream:URL or reverse:https://mail.example.com/.")
@click.option("--save", type=click.Path(dir_okay=False), help="Record every flow to FILE (.har, .saz, .pcap, .pcapng) on exit.")
@click.option("--format", "fmt", type=click.Choice(["summary", "text", "ndjson"]), default="summary", show_default=True,
              help="summary: one line per exchange; text: the tree, as `dissect` prints it; ndjson: the JSON contract.")
@click.option("--request-type", "request_types", multiple=True, help="Only print these X-RequestType values (repeatable).")
@click.option("--confdir", type=click.Path(file_okay=False), help="mitmproxy's folder (its CA); default ~/.mitmproxy.")
@click.option("--upstream-ca", type=click.Path(exists=True, dir_okay=False), help="CA file to verify the server with.")
@click.option("--upstream-insecure", is_flag=True, help="Do not verify the server's certificate.")
@click.option("--addon-path", is_flag=True, help="Print the path of the mitmproxy addon script (mitmproxy -s PATH) and exit.")
def proxy(listen_host, listen_port, mode, save, fmt, request_types, confdir, upstream_ca, upstream_insecure, addon_path):
    """Intercepting proxy (mitmproxy) that prints MAPI/HTTP as Outlook talks; Ctrl-C stops it."""
    if addon_path:
        from .proxy import script

        click.echo(os.path.abspath(script.__file__))
        return
    from .proxy.addon import MapiAddon
    from .proxy.run import options, run

    addon = MapiAddon(fmt=fmt, request_types=request_types, save=save)
    opts = options(listen_host=listen_host, listen_port=listen_port, mode=mode, confdir=confdir,
                   upstream_ca=upstream_ca, upstream_insecure=upstream_insecure)
    def announce(host, port):
        click.echo(f"mapiwire proxy: {mode} mode on {host}:{port}"
                   + (f", recording to {save}" if save else "") + "; Ctrl-C stops", err=True)

    run(opts, addon, announce)


def _client_options(f):
    """Connection options shared by `client` and `probe`."""
    for option in reversed([
        click.option("--user", "user", metavar="U:P", help="Credentials: USER:PASS (scheme from the server's 401), "
                     "or basic:/ntlm:/negotiate:USER:PASS, bearer:TOKEN."),
        click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), help="CA file to verify TLS with."),
        click.option("--insecure", is_flag=True, help="Do not verify the server's TLS certificate."),
        click.option("--source-address", help="Local address to connect from (e.g. 127.0.0.2)."),
        click.option("--timeout", type=float, default=30.0, show_default=True, help="Socket timeout, seconds."),
    ]):
        f = option(f)
    return f


@main.command()
@click.argument("url")
@click.option("--profile", type=click.Choice(["startup", "browse", "send", "idle", "day"]), default="startup",
              show_default=True, help="The Outlook-like session to run.")
@_client_options
@click.option("--record", type=click.Path(dir_okay=False), help="Record the exchanges to FILE (.har, .saz, .pcap, .pcapng).")
@click.option("--to", help="send: the recipient (resolved by the address book; default: yourself).")
@click.option("--gap", type=float, default=2.0, show_default=True, help="day: the idle gap, seconds.")
def client(url, profile, user, ca_file, insecure, source_address, timeout, record, to, gap):
    """Run an Outlook-like session (Autodiscover, address book, mailbox) against URL."""
    from .client.auth import parse_auth
    from .client.profiles import OutlookClient, run_profile
    from .dissect.decode import Decoder
    from .dissect.render import summary
    from .errors import MapiwireError

    if not user:
        raise click.UsageError("--user is needed: the mailbox to open")
    session = OutlookClient(url, parse_auth(user), ca_file=ca_file, insecure=insecure, source_address=source_address,
                            timeout=timeout, log=lambda line: click.echo(f"  {line}", err=True))
    options = {"day": {"gap": gap}, "send": {"to": to}}.get(profile, {})
    failure = None
    try:
        run_profile(profile, session, **options)
    except MapiwireError as exc:
        failure = exc
    decoder, codes, rops = Decoder(), {}, 0
    for exchange in session.exchanges:
        rec = decoder.decode(exchange)
        if rec is None:
            continue
        click.echo(summary(rec))
        codes[rec["response_code"]] = codes.get(rec["response_code"], 0) + 1
    for result in (session.mailbox.results if session.mailbox else []):
        for response in result.responses:
            rops += response is not None
    if record:
        from .client.recorder import record as write

        write(session.exchanges, record)
        click.echo(f"recorded {len(session.exchanges)} exchanges to {record}", err=True)
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(codes.items(), key=lambda kv: str(kv[0])))
    click.echo(f"profile {profile}: {sum(codes.values())} MAPI/HTTP requests"
               + (f", X-ResponseCode {counts}" if counts else "") + f"; {rops} ROP responses"
               + (f"; FAILED: {failure}" if failure else "; all as expected"))
    sys.exit(1 if failure else 0)


@main.command()
@click.argument("target", metavar="URL|HOST")
@_client_options
def probe(target, user, ca_file, insecure, source_address, timeout):
    """Test-OutlookConnectivity (OutlookMapiHttpSelfTestProbe): each step's result and time; exit 0 only when all succeed."""
    from .client.auth import parse_auth
    from .client.probe import probe as run_probe

    if not user:
        raise click.UsageError("--user is needed: the mailbox to probe")
    report = run_probe(target, parse_auth(user), ca_file=ca_file, insecure=insecure,
                       source_address=source_address, timeout=timeout)
    click.echo(report.table())
    sys.exit(0 if report.succeeded else 1)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), help="PEM certificate (with --tls-key).")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False))
@click.option("--tls-self-signed", is_flag=True, help="Make a loopback-only self-signed certificate.")
@click.option("--auth", type=click.Choice(["none", "basic", "ntlm"]), default="none", show_default=True)
@click.option("--users", "users_file", type=click.Path(exists=True, dir_okay=False),
              help='JSON {"alice": "password", ...}; default: the fixture users\' passwords.')
@click.option("--mailbox", type=click.Path(exists=True, dir_okay=False), help="Fixture JSON (default: packaged).")
@click.option("--session-timeout", default=900.0, show_default=True, type=float, help="Idle seconds.")
@click.option("--pending-period", default=30.0, show_default=True, type=float, help="Seconds between PENDING.")
@click.option("--notification-wait-limit", default=300.0, show_default=True, type=float)
@click.option("--slow", "slow_ms", default=0.0, type=float, help="Make each request's work take MS milliseconds.")
@click.option("--no-mapi-http", is_flag=True, help="Play MapiHttpEnabled=false: no /mapi/, no mapiHttp section.")
@click.option("--internal-url", help="Base URL Autodiscover and GetMailboxUrl hand out.")
@click.option("--external-url")
@click.option("--max-sessions", default=20_000, show_default=True, type=int)
@click.option("--max-body", default=1 << 20, show_default=True, type=int, help="Largest request body, bytes.")
@click.option("--log", "log_path", type=click.Path(dir_okay=False), help="Request log file (default: stderr).")
def serve(host, port, tls_cert, tls_key, tls_self_signed, auth, users_file, mailbox, session_timeout,
          pending_period, notification_wait_limit, slow_ms, no_mapi_http, internal_url, external_url,
          max_sessions, max_body, log_path):
    """Serve MAPI/HTTP (/mapi/emsmdb/, /mapi/nspi/) and Autodiscover from an in-memory mailbox."""
    from .server import load_passwords, serve_forever
    from .server.app import Options
    from .server.tls import self_signed, server_context

    if bool(tls_cert) != bool(tls_key) or (tls_cert and tls_self_signed):
        raise click.UsageError("give --tls-cert with --tls-key, or --tls-self-signed")
    ssl_context = None
    if tls_self_signed:
        import tempfile

        try:
            tls_cert, tls_key, fingerprint = self_signed(tempfile.mkdtemp(prefix="mapiwire-tls-"), host)
        except ValueError as exc:
            raise click.UsageError(str(exc))
        click.echo(f"self-signed certificate {tls_cert} SHA-256 {fingerprint}", err=True)
    if tls_cert:
        ssl_context = server_context(tls_cert, tls_key)
    options = Options(host=host, port=port, auth=auth, session_timeout=session_timeout,
                      pending_period=pending_period, notification_wait_limit=notification_wait_limit,
                      slow_ms=slow_ms, mapi_http=not no_mapi_http, internal_url=internal_url,
                      external_url=external_url, max_sessions=max_sessions, max_body=max_body,
                      passwords=load_passwords(users_file) if users_file else None, log_path=log_path)
    _run(lambda: serve_forever(options, mailbox=mailbox, ssl_context=ssl_context,
                               announce=lambda text: click.echo(text, err=True)))


@main.command()
@capture
@click.option("--target", help="The server's base URL (http[s]://host:port); loopback unless --allow-remote.")
@keylog_option
@tls_option
@click.option("--session", "sessions", multiple=True, help="Only these sessions (context cookie, repeatable).")
@click.option("--timing", default="original", show_default=True, help="original, fast, or xN (N times faster).")
@click.option("--max-gap", type=float, help="Cap every idle gap of the capture at this many seconds.")
@click.option("--scenario", "scenarios", multiple=True, metavar="SPEC",
              help="network-switch@STEP[,drop=fin|rst|blackhole|kill][,source=IP], cut@STEP,during=request|response, "
                   "hibernate@STEP,sleep=DURATION[,ping=yes|no], sequence-probe@STEP,kind=stale|overlap, "
                   "impair@STEP,mode=latency|stall|reset|blackhole[,duration=D][,delay=D] (repeatable).")
@click.option("--auth", help="basic:USER[:PASS], ntlm:DOMAIN\\USER[:PASS] or bearer:TOKEN.")
@click.option("--ca", type=click.Path(exists=True, dir_okay=False), help="Verify TLS against this CA file.")
@click.option("--insecure", is_flag=True, help="Do not verify the TLS certificate.")
@click.option("--source-address", help="Bind the client sockets to this address.")
@click.option("--allow-writes", is_flag=True, help="Send the ROPs and requests that change or send data.")
@click.option("--allow-remote", is_flag=True, help="Allow a target that is not on loopback.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Write the full report as JSON.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Write the HTML timeline report.")
@click.option("--max-requests", type=click.IntRange(1), help="Stop after this many requests.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for each response.")
@click.option("--plan-only", is_flag=True, help="Print the plan of each session and stop.")
@click.option("--as-user", help="Replay under another mailbox: its DN, or MAILBOX=DN.")
@click.option("--map", "policies", multiple=True, metavar="KIND=POLICY",
              help="handle|id|long_term_id|mid|bookmark|server_guid = map|keep|fail (default map).")
@click.option("--hook", help="MODULE:FUNCTION or FILE.py:FUNCTION called with each RequestEdit before it is built.")
@click.option("--compare-content", is_flag=True, help="Content divergences count for the exit status too.")
def replay(file, target, keylog, tls, sessions, timing, max_gap, scenarios, auth, ca, insecure, source_address,
           allow_writes, allow_remote, report_path, html_path, max_requests, timeout, plan_only, as_user, policies,
           hook, compare_content):
    """Re-drive the MAPI sessions of FILE against a server and report every divergence.
    Exit status: 0 matched, 1 diverged, 2 could not run."""
    from .replay.command import run_replay

    status = [2]

    def body():
        status[0] = run_replay(file, target=target, keylog=keylog, tls=tls, sessions=sessions, timing=timing,
                               max_gap=max_gap, scenarios=scenarios, auth=auth, ca=ca, insecure=insecure,
                               source_address=source_address, allow_writes=allow_writes, allow_remote=allow_remote,
                               report_path=report_path, html_path=html_path, max_requests=max_requests,
                               timeout=timeout, plan_only=plan_only, as_user=as_user, policies=policies, hook=hook,
                               compare_content=compare_content, echo=click.echo)

    _run(body)
    sys.exit(status[0])


@main.command()
@capture
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@click.option("--format", "fmt", type=click.Choice(["html", "json", "text"]), default="html", show_default=True)
@keylog_option
@tls_option
@click.option("--session", "sessions", multiple=True, help="Only these sessions (context cookie, repeatable).")
def report(file, output, fmt, keylog, tls, sessions):
    """The timeline of FILE's MAPI sessions as a self-contained HTML page (or JSON / text)."""
    from .replay.command import run_report

    _run(lambda: run_report(file, output=output, fmt=fmt, keylog=keylog, tls=tls, sessions=sessions, echo=click.echo))


if __name__ == "__main__":
    main()
