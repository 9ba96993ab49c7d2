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
