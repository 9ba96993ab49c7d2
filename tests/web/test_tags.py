import pytest

from cloudmsp.web.templatetags.cloudmsp_tags import minutes


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (1, "minute"),
        (15, "15 minutes"),
        (60, "hour"),
        (90, "90 minutes"),
        (360, "6 hours"),
        (1440, "day"),
        (2880, "2 days"),
    ],
)
def test_minutes_read_as_people_say_them(value, said):
    assert minutes(value) == said


def test_breakable_lets_an_arn_wrap_only_after_its_separators_and_escapes_it():
    from cloudmsp.web.templatetags.cloudmsp_tags import breakable

    html = str(breakable("arn:aws:iam::111122223333:role/ops/<b>x</b>"))
    assert (
        html == '<span class="breakable">arn:aws:iam::111122223333:role/<wbr>ops/<wbr>&lt;b&gt;x&lt;/<wbr>b&gt;</span>'
    )
    assert str(breakable("ops@acme.example")) == '<span class="breakable">ops@<wbr>acme.example</span>'
    assert str(breakable(None)) == '<span class="breakable"></span>'


def test_has_required_tells_whether_a_form_needs_the_asterisk_note():
    from django import forms

    from cloudmsp.web.templatetags.cloudmsp_tags import has_required

    class Optional(forms.Form):
        note = forms.CharField(required=False)
        secret = forms.CharField(widget=forms.HiddenInput)

    class Needed(Optional):
        name = forms.CharField()

    assert has_required(Optional()) is False
    assert has_required(Needed()) is True


def test_copy_button_and_copyable_escape_the_value_and_name_the_button():
    from cloudmsp.web.templatetags.cloudmsp_tags import copy_button, copyable

    html = str(copy_button('a"<b>', "role ARN", "role ARN of 1"))
    assert 'data-copy-text="a&quot;&lt;b&gt;"' in html
    assert 'aria-label="Copy role ARN of 1"' in html
    assert 'title="Copy role ARN"' in html
    assert "<b>" not in html
    html = str(copyable("111122223333", "account id"))
    assert html.startswith('<span class="copyable"><span class="copy-value">111122223333</span><button')
    assert 'aria-label="Copy account id 111122223333"' in html


@pytest.mark.parametrize(
    ("name", "kwarg", "pk"),
    [
        ("cloud:members", "account_id", 7),
        ("cloud:account_health", "account_id", 123456),
        ("customers:detail", "customer_id", 1),
    ],
)
def test_url_for_pk_builds_what_reverse_builds(name, kwarg, pk):
    from django.urls import reverse

    from cloudmsp.web.templatetags.cloudmsp_tags import url_for_pk

    assert url_for_pk(name, kwarg, pk) == reverse(name, kwargs={kwarg: pk})
    assert url_for_pk(name, kwarg, pk + 1) == reverse(name, kwargs={kwarg: pk + 1})


def test_url_for_pk_follows_the_script_prefix():
    from django.urls import reverse, set_script_prefix

    from cloudmsp.web.templatetags.cloudmsp_tags import url_for_pk

    set_script_prefix("/portal/")
    try:
        assert url_for_pk("cloud:members", "account_id", 5) == reverse("cloud:members", kwargs={"account_id": 5})
        assert url_for_pk("cloud:members", "account_id", 5).startswith("/portal/")
    finally:
        set_script_prefix("/")
    assert not url_for_pk("cloud:members", "account_id", 5).startswith("/portal/")


def test_escape_text_escapes_any_value_as_django_escape_does():
    from django.utils.html import escape

    from cloudmsp.web.templatetags.cloudmsp_tags import copy_button, escape_text

    for value in ('<a href="x">&\'', "Ünïcödé", 12, None):
        assert escape_text(value) == str(escape(value))
    assert 'data-copy-text="12"' in str(copy_button(12, "id"))  # a number, as the templates took it
