import io

import qrcode
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.otp import backup_codes_create, otp_enrolled, totp_device_create_confirmed


class Command(BaseCommand):
    help = (
        "Give a user a TOTP device (an operator enrols someone): prints its provisioning URI, a QR code for the "
        "terminal and 10 backup codes, once. Replaces an existing device only with --replace."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--replace", action="store_true", help="Replace the user's device and backup codes")
        parser.add_argument("--no-qr", action="store_true", help="Print the URI only")

    def handle(self, *args, username: str, replace: bool, no_qr: bool, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username}.")
        if otp_enrolled(user) and not replace:
            raise CommandError(f"{username} already has a device; --replace makes a new one (the old stops working).")
        device = totp_device_create_confirmed(user)
        codes = backup_codes_create(user)
        self.stdout.write(f"Provisioning URI for {username} (scan it with an authenticator app):")
        self.stdout.write(device.config_url)
        if not no_qr:
            qr = qrcode.QRCode(border=2)
            qr.add_data(device.config_url)
            out = io.StringIO()
            qr.print_ascii(out=out, invert=True)
            self.stdout.write(out.getvalue())
        self.stdout.write("Backup codes (each works once; shown only now):")
        self.stdout.write(" ".join(codes))
