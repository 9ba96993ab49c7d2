#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.management import execute_from_command_line

    from cloudmsp.tenancy import rls

    # Commands are system work (migrations, operations commands, the task worker, the demo):
    # they run with the row-level security bypass; requests and tasks narrow it to a tenant.
    rls.set_process_default(rls.SYSTEM)

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
