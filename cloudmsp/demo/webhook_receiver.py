"""A webhook receiver for trying the portal's webhooks on this machine:

    .venv/bin/python -m cloudmsp.demo.webhook_receiver --port 9000 --secret whsec_...

prints every event it gets, and whether its X-Cloudmsp-Signature verifies with the secret. Add
the webhook http://127.0.0.1:9000/ in ADMINISTRATION > Webhooks (plain http to loopback is
allowed in the demo) and copy its secret."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """What any receiver does: recompute HMAC-SHA256 over `<timestamp>.<body>` and compare.
    Written out here rather than imported from the portal, as a receiver's own code would be;
    tests/demo checks it against the portal's signatures."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return abs(time.time() - timestamp) <= tolerance and hmac.compare_digest(expected, parts.get("sha256", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", default="", help="The webhook's signing secret, to verify signatures.")
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            signature = self.headers.get("X-Cloudmsp-Signature", "")
            verdict = (
                "not checked (no --secret)"
                if not args.secret
                else ("verified" if verify(args.secret, signature, body) else "DOES NOT VERIFY")
            )
            try:
                event: Any = json.loads(body)
            except ValueError:
                event = body[:200]
            print(f"{self.headers.get('X-Cloudmsp-Event', '?')} signature {verdict}:", json.dumps(event, indent=2))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    print(f"Listening on http://127.0.0.1:{args.port}/ (Ctrl-C stops)")
    with contextlib.suppress(KeyboardInterrupt):
        HTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
