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
