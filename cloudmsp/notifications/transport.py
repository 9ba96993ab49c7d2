"""Sending a webhook's POST without letting its URL reach inside the network (SSRF).

Only `https` URLs are accepted (plain `http` only to loopback, and only where
settings.WEBHOOK_ALLOW_LOOPBACK_HTTP allows it: the demo and the tests). The host is resolved
here, every address it resolves to must be public (no private, loopback, link-local — which
holds the cloud metadata address 169.254.169.254 —, shared, multicast or reserved ranges), and
the connection goes to that checked address, with the name kept for TLS and the Host header: a
name cannot resolve to a public address for the check and a private one for the connection.
Redirects are checked the same way; 307 and 308 to the same host are followed (at most
MAX_REDIRECTS), other redirects are not (they would turn the POST into a GET, or hand the signed
body to another receiver). One deadline covers each request."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings

MAX_REDIRECTS = 3
EXCERPT = 500
# Names that are never a customer's receiver, whatever they resolve to.
BLOCKED_NAMES = {"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"}


class UrlRefused(ValueError):
    """A webhook URL the portal will not send to; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


@dataclass(frozen=True)
class Response:
    status: int | None
    duration_ms: int
    excerpt: str = ""
    error: str = ""


def _allow_loopback() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_LOOPBACK_HTTP", False))


def address_refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why an address may not be sent to ("" when it may)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "" if _allow_loopback() else "it is a loopback address"
    if ip.is_link_local:
        return "it is a link-local address (this includes the cloud metadata address)"
    if ip.is_private or (isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.IPv4Network("100.64.0.0/10")):
        return "it is a private address"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return "it is not a public address"
    return ""


def _check_text(url: object) -> None:
    if not isinstance(url, str) or not url.strip():
        raise UrlRefused("Enter the receiver's URL.")
    if len(url) > 2048:
        raise UrlRefused("Use a URL of at most 2048 characters.")
    if not url.isprintable() or any(c.isspace() for c in url):
        raise UrlRefused("The URL may not contain spaces or control characters.")


def _ascii_host(hostname: str) -> str:
    """The host as DNS and the Host header carry it (an internationalised name in IDNA)."""
    try:
        return hostname.rstrip(".").lower().encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise UrlRefused("The URL's host name is not valid.") from exc


def parse_url(url: str) -> Target:
    """The URL's parts, or UrlRefused (checks what can be checked without DNS)."""
    _check_text(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused("This is not a valid URL.") from exc
    host = _ascii_host(parts.hostname or "")
    if parts.scheme not in ("https", "http") or not host:
        raise UrlRefused("Use an https:// URL.")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("Put no user name or password in the URL; verify the signature instead.")
    if host in BLOCKED_NAMES:
        raise UrlRefused("The cloud metadata service cannot receive webhooks.")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and (reason := address_refusal(literal)):
        raise UrlRefused(f"The portal does not send webhooks to {host}: {reason}.")
    if parts.scheme == "http":
        loopback_name = host == "localhost" or (literal is not None and literal.is_loopback)
        if not (_allow_loopback() and loopback_name):
            raise UrlRefused("Use an https:// URL (plain http is allowed only to loopback in the demo and tests).")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def resolve(target: Target) -> str:
    """The address to connect to: every address the host resolves to must be allowed."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UrlRefused(f"The name {target.host} does not resolve.") from exc
    addresses = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        reason = address_refusal(ip)
        if reason:
            raise UrlRefused(f"Refused: {target.host} resolves to {ip}, and {reason}.")
        addresses.append(str(ip))
    if not addresses:
        raise UrlRefused(f"The name {target.host} does not resolve.")
    return addresses[0]


@dataclass(frozen=True)
class _Answer:
    status: int
    location: str
    excerpt: str


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default_port = 443 if target.scheme == "https" else 80
    return host if target.port == default_port else f"{host}:{target.port}"


def _send_once(target: Target, address: str, body: bytes, headers: dict[str, str]) -> _Answer:
    """One POST to the checked `address`, with the name kept for TLS (SNI and the certificate's
    hostname, verified against the system's CAs) and the Host header. The whole exchange has one
    deadline (settings.WEBHOOK_TIMEOUT_SECONDS): a watchdog shuts the socket when it passes, so a
    receiver that trickles its answer cannot hold a worker."""
    limit = float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10))
    raw = socket.create_connection((address, target.port), timeout=min(5.0, limit))
    sock: socket.socket = raw
    watchdog = threading.Timer(limit, _shut, args=(raw,))
    watchdog.daemon = True
    watchdog.start()
    try:
        raw.settimeout(limit)
        if target.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(raw, server_hostname=target.host)
        conn = http.client.HTTPConnection(target.host, target.port, timeout=limit)
        conn.sock = sock
        try:
            conn.request("POST", target.path, body=body, headers={**headers, "Host": _host_header(target)})
            response = conn.getresponse()
            excerpt = response.read(EXCERPT).decode("utf-8", "replace")
            return _Answer(response.status, response.getheader("Location", "") or "", excerpt)
        finally:
            conn.close()
    finally:
        watchdog.cancel()
        sock.close()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _same_host(a: str, b: str) -> bool:
    return (urlsplit(a).hostname or "").lower() == (urlsplit(b).hostname or "").lower()


def post(url: str, body: bytes, headers: dict[str, str]) -> Response:
    """POST `body` to `url`, following only checked 307/308 redirects to the same host (the body
    is signed for this receiver). Never raises: every failure is a Response with an error."""
    started = time.monotonic()

    def took() -> int:
        return round((time.monotonic() - started) * 1000)

    current = url
    for _ in range(MAX_REDIRECTS + 1):
        try:
            target = parse_url(current)
            address = resolve(target)
        except UrlRefused as exc:
            prefix = "" if current == url else f"Redirected to {current[:200]}: "
            return Response(None, took(), error=f"{prefix}{exc}")
        try:
            answer = _send_once(target, address, body, headers)
        except Exception as exc:  # anything the network or the receiver does is the delivery's failure
            return Response(None, took(), error=f"Could not deliver: {type(exc).__name__}: {str(exc)[:300]}")
        if answer.status in (301, 302, 303, 307, 308) and answer.location:
            nxt = urljoin(current, answer.location)
            try:
                resolve(parse_url(nxt))
            except UrlRefused as exc:
                return Response(
                    answer.status,
                    took(),
                    answer.excerpt,
                    error=f"Refused to follow the redirect to {nxt[:200]}: {exc}",
                )
            if answer.status not in (307, 308) or not _same_host(current, nxt):
                return Response(
                    answer.status,
                    took(),
                    answer.excerpt,
                    error=f"The receiver redirected ({answer.status}) to {nxt[:200]}; webhooks follow only 307 and "
                    "308 redirects on the same host: use the final URL.",
                )
            current = nxt
            continue
        return Response(answer.status, took(), answer.excerpt)
    return Response(None, took(), error=f"More than {MAX_REDIRECTS} redirects.")
