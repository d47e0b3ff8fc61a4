#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantumleap.settings")
    from django.core.management import execute_from_command_line

    from accounts.origin import command_origin_enter

    command_origin_enter(sys.argv)  # events it records say: done by a command, on this machine
    execute_from_command_line(sys.argv)
