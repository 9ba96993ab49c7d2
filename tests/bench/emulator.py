"""The moto server for the benchmarks, in a process of its own:
`python -m tests.bench.emulator PORT ORGANIZATIONS MEMBERS [LATENCY_MS]` creates ORGANIZATIONS
organizations of MEMBERS member accounts each (`make load`), then serves the AWS APIs on
127.0.0.1:PORT, each answer LATENCY_MS (default 0) later than moto gives it: the round trip to
AWS that a local emulator does not have, so that calls made concurrently can be measured as they
overlap on AWS (the requests wait in threads, so waits overlap as network round trips do).

The accounts are written into moto's Organizations backend directly, not through CreateAccount:
moto's CreateAccount also builds an IAM backend with a role in every new account, which takes
10 s per 10,000 accounts and grows with each organization. Listing the organizations (what a
sync does) reads only the Organizations backend, so it answers as it would for created accounts.
The management accounts are management_id(0), management_id(1), ..."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, timeout: float) -> None:
    """Until `process` listens on `port`; RuntimeError (the process killed) if it stops or
    takes longer than `timeout` seconds."""
    from cloudmsp.demo.emulator import port_in_use

    deadline = time.monotonic() + timeout
    while not port_in_use("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.1)


class Emulator:
    """This module's server started in a process of its own, as the AWS endpoint is in
    production (in the benchmark's process it would compete for the interpreter lock); stop()
    ends it. `url` is its endpoint; latency() changes the delay of its answers from then on."""

    def __init__(self, organizations: int = 0, members: int = 0, *, timeout: float = 300) -> None:
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(key, "testing")
        port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.emulator", str(port), str(organizations), str(members)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{port}"
        wait_for_port(port, self.process, "the emulator", timeout)

    def environment(self) -> dict[str, str]:
        """The portal's settings that make this its AWS endpoint, as environment variables (for
        gunicorn and the task workers); configure() sets them in this process."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "PORTAL_AWS_ACCOUNT_ID": "123456789012",  # moto's own identity
            "AWS_CHECK_WRONG_EXTERNAL_ID": "false",
            "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
        }

    def configure(self) -> Emulator:
        from django.conf import settings

        env = self.environment()
        settings.AWS_ENDPOINT_URL = env["AWS_ENDPOINT_URL"]
        settings.PORTAL_AWS_ACCOUNT_ID = env["PORTAL_AWS_ACCOUNT_ID"]
        settings.AWS_CHECK_WRONG_EXTERNAL_ID = False
        return self

    def latency(self, ms: float) -> None:
        request = urllib.request.Request(f"{self.url}/__latency/{ms:g}", method="POST")
        urllib.request.urlopen(request, timeout=10).close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def management_id(index: int) -> str:
    return f"8{index:03d}00000000"


def member_id(index: int, member: int) -> str:
    # 12 digits, distinct for 100 organizations of up to 10**9 members, beginning with neither
    # 9 nor 00 (as the benchmark's own data, tests/bench/data.py).
    return f"{(index + 200) * 10**9 + member:012d}"


def seed(organizations: int, members: int) -> None:
    from moto.core.utils import utcnow
    from moto.organizations import utils
    from moto.organizations.models import FakeAccount, organizations_backends

    for index in range(organizations):
        backend = organizations_backends[management_id(index)]["aws"]
        backend.create_organization(region="us-east-1", FeatureSet="ALL")
        org = backend.org
        for member in range(members):
            account = FakeAccount.__new__(FakeAccount)
            account.__dict__.update(
                type="ACCOUNT",
                region=org.region,
                organization_id=org.id,
                master_account_id=org.master_account_id,
                create_account_status_id=utils.make_random_create_account_status_id(),
                id=member_id(index, member),
                name=f"load-{index}-{member}",
                email=f"load-{index}-{member}@load.example",
                create_time=utcnow(),
                status="ACTIVE",
                state="ACTIVE",
                joined_method="CREATED",
                parent_id=org.root_id,
                attached_policies=[],
                tags={},
            )
            backend.accounts.append(account)
            organizations_backends.master_accounts[account.id] = (backend.account_id, backend.partition)


def serve(port: int, latency_ms: float) -> None:
    """moto.server's own set-up (its main()), with the delay in front of its application."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    moto_app = DomainDispatcherApplication(create_backend_app)
    delay = [latency_ms / 1000]

    def app(environ: Any, start_response: Any) -> Any:
        # POST /__latency/MS (the benchmark, between its runs) sets the delay from then on.
        path = environ.get("PATH_INFO", "")
        if path.startswith("/__latency/"):
            delay[0] = float(path.rsplit("/", 1)[1]) / 1000
            start_response("204 No Content", [])
            return [b""]
        if delay[0]:
            time.sleep(delay[0])
        return moto_app(environ, start_response)

    run_simple("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)


def main(argv: list[str]) -> None:
    from cloudmsp.demo.emulator import behave_like_aws_today

    port, organizations, members, *latency = argv
    behave_like_aws_today()  # as the demo's and the tests' emulator: no retired Status, trust policies checked
    seed(int(organizations), int(members))
    serve(int(port), float(latency[0]) if latency else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
