"""Webhooks end to end: signed events to a real receiver on loopback, retries by the real task
worker, SSRF refusals, and the email opt-outs."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction

from cloudmsp.notifications import transport
from cloudmsp.notifications.models import DeliveryState, EventType, WebhookDelivery
from cloudmsp.notifications.services import (
    Notice,
    account_ref,
    delivery_resend,
    email_preferences_set,
    notify_many,
    verify,
    webhook_create,
    webhook_send_test,
)
from tests.factories import CloudAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def _drain(run_tasks, rounds: int = 6) -> None:
    """Run the worker until nothing is left: each round also runs what the last one enqueued."""
    for _ in range(rounds):
        run_tasks()


def test_a_receiver_answering_500_twice_then_200_gets_three_deliveries_of_one_event(admin, receiver, run_tasks, commit):
    receiver.statuses = [500, 500, 200]
    webhook, secret = webhook_create(actor=admin, url=receiver.url)
    with commit():
        webhook_send_test(actor=admin, webhook=webhook)
    _drain(run_tasks)

    assert len(receiver.received) == 3
    ids = {r.headers["X-Cloudmsp-Event-Id"] for r in receiver.received}
    bodies = {json.loads(r.body)["id"] for r in receiver.received}
    assert len(ids) == 1
    assert ids == bodies
    for r in receiver.received:
        assert verify(secret, r.headers["X-Cloudmsp-Signature"], r.body)
        assert r.path == "/hooks/cloudmsp"
    attempts = list(WebhookDelivery.unscoped.filter(webhook=webhook).order_by("attempt"))
    assert [(d.attempt, d.state, d.status_code) for d in attempts] == [
        (1, DeliveryState.FAILED, 500),
        (2, DeliveryState.FAILED, 500),
        (3, DeliveryState.SUCCEEDED, 200),
    ]
    assert [d.will_retry for d in attempts] == [True, True, False]
    assert all(d.duration_ms is not None for d in attempts)
    assert attempts[0].error == "The receiver answered 500."


def test_the_signature_covers_timestamp_and_body(admin, receiver, run_tasks, commit):
    webhook, secret = webhook_create(actor=admin, url=receiver.url)
    with commit():
        webhook_send_test(actor=admin, webhook=webhook)
    _drain(run_tasks)
    (got,) = receiver.received
    header = got.headers["X-Cloudmsp-Signature"]
    assert header.startswith("t=")
    assert ",sha256=" in header
    assert verify(secret, header, got.body)
    assert not verify(secret, header, got.body + b" ")
    assert not verify("whsec_other", header, got.body)
    timestamp = int(header.split(",")[0][2:])
    assert not verify(secret, header, got.body, now=timestamp + 3600)  # a replay an hour later
    event = json.loads(got.body)
    assert set(event) == {"id", "type", "created_at", "tenant", "account", "data"}
    assert event["type"] == "test"
    assert event["tenant"] == admin.tenant_id
    assert event["account"] is None


def test_no_retry_after_the_window(admin, receiver, run_tasks, settings, commit):
    settings.WEBHOOK_RETRY_HOURS = 0
    receiver.statuses = [503]
    webhook, _ = webhook_create(actor=admin, url=receiver.url)
    with commit():
        webhook_send_test(actor=admin, webhook=webhook)
    _drain(run_tasks)
    assert len(receiver.received) == 1
    (only,) = WebhookDelivery.unscoped.filter(webhook=webhook)
    assert only.state == DeliveryState.FAILED
    assert not only.will_retry


def test_a_failed_delivery_can_be_resent(admin, receiver, run_tasks, settings, commit):
    settings.WEBHOOK_RETRY_HOURS = 0
    receiver.statuses = [500]
    webhook, _ = webhook_create(actor=admin, url=receiver.url)
    with commit():
        first = webhook_send_test(actor=admin, webhook=webhook)
    _drain(run_tasks)
    first.refresh_from_db()
    with commit():
        again = delivery_resend(actor=admin, delivery=first)
    _drain(run_tasks)
    again.refresh_from_db()
    assert again.state == DeliveryState.SUCCEEDED
    assert again.resend_of_id == first.pk
    assert len(receiver.received) == 2
    assert len({r.headers["X-Cloudmsp-Event-Id"] for r in receiver.received}) == 1


def test_only_subscribed_and_enabled_webhooks_get_an_event(admin, receiver, run_tasks, commit):
    subscribed, _ = webhook_create(actor=admin, url=receiver.url, events=["role.broken"])
    webhook_create(actor=admin, url=receiver.url + "/other", events=["sync.failed"])
    webhook_create(actor=admin, url=receiver.url + "/off", enabled=False)
    with commit(), transaction.atomic():
        notify_many(tenant_id=admin.tenant_id, notices=[Notice(EventType.ROLE_BROKEN, None, {"message": "x"})])
    _drain(run_tasks)
    assert [r.path for r in receiver.received] == ["/hooks/cloudmsp"]
    assert WebhookDelivery.unscoped.filter(webhook=subscribed).count() == 1


def test_a_rolled_back_change_announces_nothing(admin, receiver, run_tasks, commit):
    webhook_create(actor=admin, url=receiver.url)

    def change_that_fails() -> None:
        with transaction.atomic():
            notify_many(tenant_id=admin.tenant_id, notices=[Notice(EventType.ROLE_BROKEN)])
            raise RuntimeError

    with commit(), pytest.raises(RuntimeError):
        change_that_fails()
    _drain(run_tasks)
    assert receiver.received == []
    assert mail.outbox == []


# SSRF --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:169.254.169.254]/",
        "https://[fe80::1]/",
        "https://10.0.0.7/hook",
        "https://192.168.1.1/hook",
        "https://172.16.0.1/hook",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://metadata.google.internal/computeMetadata/v1/",
        "http://example.com/hook",
        "ftp://example.com/hook",
        "https://user:pw@example.com/hook",
        "https://exa mple.com/",
        "https://example.com:99999/",
        "javascript:alert(1)",
        "",
    ],
)
def test_webhook_urls_that_are_refused(admin, url):
    with pytest.raises(ValidationError) as refused:
        webhook_create(actor=admin, url=url)
    assert refused.value.message_dict["url"]


def test_a_name_resolving_to_loopback_is_refused_in_production_settings(admin, receiver, settings):
    port = receiver.server.server_address[1]
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = False
    with pytest.raises(ValidationError):
        webhook_create(actor=admin, url=f"http://localhost:{port}/")
    # An https name passes the form (no DNS there) but is checked again, resolved, when sent.
    answer = transport.post(f"https://localhost:{port}/", b"{}", {})
    assert answer.status is None
    assert "resolves to 127.0.0.1" in answer.error
    assert receiver.received == []


def test_a_redirect_to_a_private_address_is_not_followed(admin, receiver, run_tasks, commit):
    receiver.statuses = [307]
    receiver.redirect_to = "http://10.1.2.3/steal"
    webhook, _ = webhook_create(actor=admin, url=receiver.url)
    with commit():
        delivery = webhook_send_test(actor=admin, webhook=webhook)
    run_tasks()
    run_tasks()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED
    assert "Refused to follow the redirect to http://10.1.2.3/steal" in delivery.error
    assert delivery.status_code == 307


def test_a_redirect_to_metadata_is_refused_and_a_303_is_not_followed(receiver):
    receiver.statuses = [302]
    receiver.redirect_to = "http://169.254.169.254/latest/meta-data/"
    answer = transport.post(receiver.url, b"{}", {})
    assert "Refused to follow the redirect" in answer.error
    assert "link-local" in answer.error
    receiver.statuses = [303]
    receiver.redirect_to = "/elsewhere"
    answer = transport.post(receiver.url, b"{}", {})
    assert "follow only 307 and 308" in answer.error
    assert len(receiver.received) == 2


def test_a_307_to_an_allowed_address_is_followed(receiver):
    receiver.statuses = [307, 200]
    receiver.redirect_to = "/moved"
    answer = transport.post(receiver.url, b"{}", {})
    assert answer.status == 200
    assert not answer.error
    assert [r.path for r in receiver.received] == ["/hooks/cloudmsp", "/moved"]


# Emails ------------------------------------------------------------------------------------


def test_administrators_get_one_email_and_opting_out_stops_it(admin, run_tasks, commit):
    other = UserFactory(tenant=admin.tenant, email="second@home.test")
    email_preferences_set(actor=other, wanted=[k for k in EventType.values if k not in ("role.broken", "test")])
    account = CloudAccountFactory(tenant=admin.tenant, account_id="111122223333", name="Prod")
    with commit(), transaction.atomic():
        notify_many(tenant_id=admin.tenant_id, notices=[Notice(EventType.ROLE_BROKEN, account_ref(account), {})])
    _drain(run_tasks)
    assert [m.to for m in mail.outbox] == [[admin.email]]
    assert "A role broke: 111122223333 Prod" in mail.outbox[0].subject
    mail.outbox.clear()
    with commit(), transaction.atomic():
        notify_many(tenant_id=admin.tenant_id, notices=[Notice(EventType.SYNC_FAILED, None, {"error": "denied"})])
    _drain(run_tasks)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([admin.email, other.email])


def test_test_events_send_no_email(admin, receiver, run_tasks, commit):
    webhook, _ = webhook_create(actor=admin, url=receiver.url)
    with commit():
        webhook_send_test(actor=admin, webhook=webhook)
    _drain(run_tasks)
    assert mail.outbox == []
    assert len(receiver.received) == 1


def test_unknown_opt_out_kinds_are_refused(admin):
    with pytest.raises(ValidationError):
        email_preferences_set(actor=admin, wanted=["role.broken", "'; DROP TABLE x"])


def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_deadline(settings):
    """Each byte comes well within a read timeout, the whole answer would take 20 s: the one
    deadline of the request ends it."""
    import socket
    import threading
    import time

    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + b" " * 40:
            if stop.is_set():
                break
            try:
                conn.send(bytes([byte]))
            except OSError:
                break
            time.sleep(0.5)
        conn.close()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        answer = transport.post(f"http://127.0.0.1:{server.getsockname()[1]}/", b"{}", {})
    finally:
        stop.set()
        server.close()
    assert answer.status is None
    assert answer.error.startswith("Could not deliver")


def test_a_307_to_another_host_is_not_followed(receiver):
    receiver.statuses = [307]
    receiver.redirect_to = "http://localhost:1/elsewhere"
    answer = transport.post(receiver.url, b"{}", {})
    assert "on the same host" in answer.error
    assert len(receiver.received) == 1


def test_an_internationalised_host_is_sent_in_idna(admin):
    target = transport.parse_url("https://bücher.example/hook")
    assert target.host == "xn--bcher-kva.example"
    webhook, _ = webhook_create(actor=admin, url="https://пример.рф/hook")
    assert webhook.url == "https://пример.рф/hook"


def test_a_delivery_whose_task_was_lost_is_sent_by_the_next_round(admin, receiver, run_tasks, commit):
    from datetime import timedelta

    from django.utils import timezone

    from cloudmsp.notifications.services import STUCK_AFTER, deliveries_requeue_stuck

    webhook, _ = webhook_create(actor=admin, url=receiver.url)
    delivery = webhook_send_test(actor=admin, webhook=webhook)  # its enqueue never commits: lost
    run_tasks()
    assert receiver.received == []
    assert deliveries_requeue_stuck() == 0  # not stuck yet
    WebhookDelivery.unscoped.filter(pk=delivery.pk).update(
        due_at=timezone.now() - STUCK_AFTER - timedelta(minutes=1), attempted_at=timezone.now() - STUCK_AFTER
    )
    with commit():
        assert deliveries_requeue_stuck() == 1
    _drain(run_tasks)
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED
    with commit():
        assert deliveries_requeue_stuck() == 0
