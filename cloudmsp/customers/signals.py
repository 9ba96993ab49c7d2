"""What the customers app tells the apps above it, which it does not import (Django's signals,
as django.contrib.auth's user_logged_in). Receivers run synchronously, inside the sender's
transaction, so their writes are kept or undone with it."""

from django.dispatch import Signal

# Sent by services.customer_delete before the customer is deleted, with `customer` and `actor`.
customer_deleting = Signal()
