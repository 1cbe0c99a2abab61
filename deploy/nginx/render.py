#!/usr/bin/env python3
"""Render the edge's nginx configuration (coderunner-edge.conf.in) for one site.

    deploy/nginx/render.py --gateway=10.0.0.5:2358,10.0.0.6:2358 --code-client=10.0.0.4:3000 \
        --server-name=code.example.com --cert=/etc/ssl/coderunner/fullchain.pem \
        --key=/etc/ssl/coderunner/key.pem > /etc/nginx/conf.d/coderunner-edge.conf

Every value is checked before it reaches the file (an address is HOST:PORT, a path is
absolute and has no character nginx would read as syntax): a value that could smuggle
directives into the configuration is refused with a message, and nothing is written.
Python's standard library only."""

import argparse
import ipaddress
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().with_name("coderunner-edge.conf.in")
PLACEHOLDER = re.compile(r"@([A-Z_]+)@")
HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
SERVER_NAME = re.compile(r"^(?:_|\*\.)?[A-Za-z0-9.-]*$")
PATH_BAD = re.compile(r"[\s;{}'\"$#\\]")


class BadValue(Exception):
    pass


def port(text, what):
    if not re.fullmatch(r"[0-9]{1,5}", text) or not 1 <= int(text) <= 65535:
        raise BadValue(f"{what}: the port {text!r} is not a number from 1 to 65535")
    return int(text)


def host_port(text, what):
    """HOST:PORT with HOST a name, an IPv4 address or a [bracketed] IPv6 address."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:([0-9]+)", text) or re.fullmatch(r"([^:\[\]]+):([0-9]+)", text)
    if not m:
        raise BadValue(f"{what}: {text!r} is not HOST:PORT (IPv6 as [ADDR]:PORT)")
    host, p = m.groups()
    if text.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise BadValue(f"{what}: {host!r} is not an IPv6 address") from None
    elif not HOSTNAME.match(host):
        raise BadValue(f"{what}: {host!r} is not a host name or an IPv4 address")
    port(p, what)
    return text


def listen(text, what):
    """PORT or ADDR:PORT (nginx's listen)."""
    if re.fullmatch(r"[0-9]+", text):
        return text, port(text, what)
    host_port(text, what)
    addr = text.rsplit(":", 1)[0]
    if not addr.startswith("["):
        try:
            ipaddress.IPv4Address(addr)
        except ValueError:
            raise BadValue(f"{what}: listen on an address, not the name {addr!r}") from None
    return text, int(text.rsplit(":", 1)[1])


def server_list(text, what):
    items = [s.strip() for s in text.split(",")]
    if not text.strip() or not all(items):
        raise BadValue(f"{what}: give at least one HOST:PORT, comma-separated, no empty entries")
    # Passive health checks: after 3 failures in 10 s a server rests for 10 s.
    return "\n".join(f"    server {host_port(s, what)} max_fails=3 fail_timeout=10s;" for s in items)


def abs_path(text, what):
    if not text.startswith("/") or PATH_BAD.search(text):
        raise BadValue(f"{what}: {text!r} must be an absolute path without spaces, quotes, ;{{}}$#\\")
    return text


def server_names(text, what):
    names = text.replace(",", " ").split()
    if not names or not all(SERVER_NAME.match(n) and n not in ("", ".") for n in names):
        raise BadValue(f"{what}: {text!r} is not a list of host names (or _)")
    return " ".join(names)


def render(args, template):
    https_listen, https_port = listen(args.https_listen, "--https-listen")
    http_listen, _ = listen(args.http_listen, "--http-listen")
    public = port(str(args.public_port), "--public-port") if args.public_port is not None else https_port
    values = {
        "GATEWAY_SERVERS": server_list(args.gateway, "--gateway"),
        "CODE_CLIENT_SERVERS": server_list(args.code_client, "--code-client"),
        "SERVER_NAME": server_names(args.server_name, "--server-name"),
        "HTTPS_LISTEN": https_listen,
        "HTTP_LISTEN": http_listen,
        "PUBLIC_PORT_SUFFIX": "" if public == 443 else f":{public}",
        "TLS_CERT": abs_path(args.cert, "--cert"),
        "TLS_KEY": abs_path(args.key, "--key"),
        "ACCESS_LOG": abs_path(args.access_log, "--access-log"),
    }
    wanted = set(PLACEHOLDER.findall(template))
    if wanted != set(values):
        raise BadValue(f"the template's placeholders {sorted(wanted)} are not the ones this script fills "
                       f"{sorted(values)}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gateway", required=True, help="the gateways, HOST:PORT[,HOST:PORT...]")
    ap.add_argument("--code-client", required=True, help="the code-clients (next start), HOST:PORT[,...]")
    ap.add_argument("--server-name", default="_", help="the public host name(s) (default: _, any)")
    ap.add_argument("--cert", required=True, help="the TLS certificate chain (PEM)")
    ap.add_argument("--key", required=True, help="its private key (PEM)")
    ap.add_argument("--https-listen", default="443", help="[ADDR:]PORT for HTTPS (default: 443)")
    ap.add_argument("--http-listen", default="80", help="[ADDR:]PORT for the redirect to HTTPS (default: 80)")
    ap.add_argument("--public-port", type=int, help="the HTTPS port clients see (default: --https-listen's)")
    ap.add_argument("--access-log", default="/var/log/nginx/coderunner-access.log")
    ap.add_argument("-o", "--output", help="write here instead of standard output")
    ap.add_argument("--template", default=str(TEMPLATE), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    try:
        text = render(args, Path(args.template).read_text())
    except BadValue as e:
        print(f"render.py: {e}", file=sys.stderr)
        return 2
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
