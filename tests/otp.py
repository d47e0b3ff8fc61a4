"""Test helpers for one-time passwords: give a user a TOTP device, compute its current code, sign a client in
with a verified session.

    device = otp_device(user)                 # a confirmed TOTP device
    client.post(..., {"otp": otp_code(device)})   # the code it shows now
    client = otp_client(user)                  # signed in, the session verified by the device

``otp_code`` forgets the time step the device last accepted (and any failed tries' wait), so a test may use
the current code more than once in the same 30 seconds; ``totp_now`` computes the code and nothing else (to test
that a used code is refused).
"""

from typing import Any

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


def otp_device(user: Any) -> TOTPDevice:
    """The user's confirmed TOTP device, made on the first call."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test authenticator", confirmed=True)


def totp_now(device: TOTPDevice) -> str:
    """The code the device shows now, as an authenticator app computes it from the device's key."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return str(code).zfill(device.digits)


def otp_code(device: TOTPDevice) -> str:
    """The current code, accepted even if the device accepted it already (test-only: resets ``last_t``)."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    device.refresh_from_db()
    return totp_now(device)


def otp_client(user: Any, client: Client | None = None) -> Client:
    """A client signed in as ``user`` with a session verified by its device (made if missing)."""
    client = client or Client()
    device = otp_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
