"""A small command line for the ORAS Python SDK (PyPI `oras`, pinned in scripts/ensure-envoy.mjs and
installed into .venv-envoy by `npm install`), because the package ships no CLI of its own.

    .venv-envoy/bin/python scripts/oras-cli.py push   --user U --password P HOST/NAME:TAG FILE...
    .venv-envoy/bin/python scripts/oras-cli.py pull   --user U --password P HOST/NAME:TAG --out DIR [--repeat N]
    .venv-envoy/bin/python scripts/oras-cli.py tags   --user U --password P HOST/NAME

Every registry exchange is oras's own (its bearer-token flow, blob uploads, manifest push and pull);
`--trace` prints each HTTP request oras makes and its status to stderr. The registry is plain HTTP
on loopback (`insecure`). On any refusal the exit status is 1 and the last line is `oras: <what failed>`
(oras's own log line with the registry's message comes before it).
"""

import argparse
import socket
import sys
from urllib.parse import urlsplit

import oras.client
import oras.version


def insufficient_scope_refreshes(client):
    """oras 0.2.43 fetches a new token only after a 403; on a 401 it retries with the token it has.
    The token spec answers a token that lacks the scope with 401 error="insufficient_scope" naming
    the scope needed (oras asks for pull on the blob HEAD, then needs push for the upload): treat that
    challenge as a reason to fetch a new token for the named scope, as the spec intends."""
    auth = client.auth
    original = auth.authenticate_request

    def authenticate_request(response, headers, refresh=False):
        challenge = response.headers.get("Www-Authenticate", "")
        return original(response, headers, refresh or 'error="insufficient_scope"' in challenge)

    auth.authenticate_request = authenticate_request


def trace(client):
    """Prints `METHOD PATH?QUERY -> STATUS` for every response oras receives."""

    def hook(response, *args, **kwargs):
        url = urlsplit(response.request.url)
        query = f"?{url.query}" if url.query else ""
        print(f"oras: {response.request.method} {url.path}{query} -> {response.status_code}", file=sys.stderr)

    client.session.hooks["response"].append(hook)


def reachable(host, seconds=5):
    """oras retries a refused connection five times with growing sleeps (over two minutes) and logs
    the retries below its default level, so an unreachable registry looked like a hang. One plain TCP
    connect first turns that into an immediate `oras: cannot reach ...` line. Returns the error text,
    or None when the registry accepts connections."""
    name, _, port = host.rpartition(":") if ":" in host else (host, "", "80")
    try:
        socket.create_connection((name.strip("[]"), int(port)), timeout=seconds).close()
        return None
    except (OSError, ValueError) as err:
        return f"cannot reach {host}: {err}"


def main(argv):
    parser = argparse.ArgumentParser(prog="oras-cli.py", description="ORAS Python SDK command line for Image Hub")
    parser.add_argument("command", choices=["push", "pull", "tags", "version"])
    parser.add_argument("target", nargs="?", help="HOST:PORT/NAME[:TAG]")
    parser.add_argument("files", nargs="*", help="files to push, one layer each")
    parser.add_argument("--user", help="username (token requests use Basic auth)")
    parser.add_argument("--password", help="password")
    parser.add_argument("--out", default=".", help="folder pull writes the layers to")
    parser.add_argument("--repeat", type=int, default=1, help="pull N times with one client, stopping at the first refusal")
    parser.add_argument("--trace", action="store_true", help="print every HTTP request and its status")
    args = parser.parse_intermixed_args(argv)
    if args.command == "version":
        print(f"oras {oras.version.__version__}")
        return 0
    if not args.target:
        parser.error("a target HOST:PORT/NAME[:TAG] is required")
    host = args.target.split("/", 1)[0]
    unreachable = reachable(host)
    if unreachable:
        print(f"oras: {unreachable}", file=sys.stderr)
        return 1
    client = oras.client.OrasClient(hostname=host, insecure=True, auth_backend="token")
    insufficient_scope_refreshes(client)
    if args.trace:
        trace(client)
    if args.user:
        client.login(username=args.user, password=args.password or "", hostname=host)
    try:
        if args.command == "push":
            if not args.files:
                parser.error("push needs at least one file")
            response = client.push(target=args.target, files=args.files, disable_path_validation=True, quiet=True)
            print(f"pushed {args.target}: {len(args.files)} layer(s), manifest {response.headers.get('Docker-Content-Digest', '?')}")
        elif args.command == "pull":
            for i in range(1, args.repeat + 1):
                files = " ".join(sorted(client.pull(target=args.target, outdir=args.out)))
                prefix = f"pull {i}: " if args.repeat > 1 else ""
                print(f"{prefix}pulled {args.target}: {files}", flush=True)
        else:
            print("\n".join(client.get_tags(args.target)))
    except Exception as err:  # oras raises ValueError / requests.HTTPError with the registry's answer
        print(f"oras: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
