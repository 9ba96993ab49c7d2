"""What the shared bases (core, the page and API bases) announce to the domain apps, which they
do not import (Django's signals, as django.contrib.auth's user_login_failed)."""

from django.dispatch import Signal

# A refused request (404 for what is out of reach, 403 for what may not be changed): sent by the
# pages' error middleware and the API's exception handler with `actor` (request.user), `action`
# ("GET /path"), `message` and `target`. The audit app records it (audit.receivers).
access_denied = Signal()
