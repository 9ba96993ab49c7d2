"""The benchmarks' emulator (tests/bench/emulator.py): organizations written into moto's backend
directly, for `make load`, must read through the portal's own listing as created ones would."""

from __future__ import annotations

import pytest

from cloudmsp.cloud.providers.aws.client import credential_cache
from cloudmsp.cloud.providers.aws.provider import AwsProvider
from cloudmsp.demo import emulator
from tests.bench.emulator import Emulator, management_id, member_id


@pytest.fixture
def seeded(settings, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")  # the portal's identity in the emulator, for this test only
    server = Emulator(2, 45, timeout=60)
    settings.AWS_ENDPOINT_URL = server.url
    settings.PORTAL_AWS_ACCOUNT_ID = emulator.PORTAL_ACCOUNT
    credential_cache.clear()
    yield server.url
    server.stop()
    credential_cache.clear()


def test_each_seeded_organization_lists_its_own_members_in_pages(seeded):
    for index in (0, 1):
        management = management_id(index)
        arn = emulator.ensure_role(seeded, management, emulator.PORTAL_ROLE, "ext", management=True)
        listing = AwsProvider().list_organization(role_arn=arn, external_id="ext")
        expected = {management} | {member_id(index, m) for m in range(45)}
        assert set(listing.accounts) == expected
        assert listing.list_accounts_calls == 3  # 46 accounts, 20 a page
        member = listing.accounts[member_id(index, 7)]
        assert member.name == f"load-{index}-7"
        assert member.state == "ACTIVE"
