"""One-time passwords (django-otp): enrolment of a TOTP device with backup codes, and the step-up a person
gives in the same request to do what moves money: deploy or resume a strategy, release a kill switch, change
risk parameters.

Views call ``otp_verify(user, code)``; it answers nothing when the code is right and raises a 403 whose code
says what to do otherwise: enrol a device (``otp_not_enrolled``), send a code (``otp_required``), or send the
current one (``otp_invalid``).

Enrolment: the page holds a new secret (``totp_key_new``) and shows it as a QR code; ``totp_device_confirm``
saves the device once its first code is right, and makes the backup codes (a static device), shown once.
"""

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django_otp import devices_for_user, match_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key
from rest_framework import status
from rest_framework.exceptions import APIException

OTP_REQUIRED = "otp_required"
OTP_INVALID = "otp_invalid"
OTP_NOT_ENROLLED = "otp_not_enrolled"

ENROL_HINT = "Enrol a device on /account/security/ (or `manage.py otp_enrol <username>`), then send its code."


class OtpRefused(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = OTP_REQUIRED
    default_detail = "A one-time password is required."

    def __init__(self, code: str, message: str):
        super().__init__(detail=message, code=code)


def otp_enrolled(user: AbstractBaseUser) -> bool:
    """Has the user a confirmed device (TOTP or backup codes)?"""
    return any(True for _ in devices_for_user(user, confirmed=True))


def otp_verify(user: AbstractBaseUser, code: object) -> None:
    """Accept ``code`` as the user's current one-time password, or raise ``OtpRefused``.

    A code is used once: django-otp's TOTP device refuses a time step it has already accepted.
    """
    if not otp_enrolled(user):
        raise OtpRefused(OTP_NOT_ENROLLED, f"This needs a one-time password and you have no device. {ENROL_HINT}")
    if code in (None, ""):
        raise OtpRefused(OTP_REQUIRED, "This needs your one-time password in the `otp` field.")
    if not isinstance(code, str) or len(code) > 16 or match_token(user, code) is None:
        raise OtpRefused(OTP_INVALID, "The one-time password is not right; send the current one.")


TOTP_DEVICE_NAME = "authenticator"
BACKUP_DEVICE_NAME = "backup codes"


def totp_key_new() -> str:
    """A new TOTP secret (hex, 20 random bytes), held by the enrolment page until its first code confirms it."""
    return default_key()


def totp_device_unsaved(user: AbstractBaseUser, key: str) -> TOTPDevice:
    """The device a key would make, unsaved: its ``config_url`` is what the QR code shows."""
    return TOTPDevice(user=user, name=TOTP_DEVICE_NAME, key=key, confirmed=False)


def totp_device_confirm(*, user: AbstractBaseUser, key: str, code: object) -> tuple[TOTPDevice, list[str]]:
    """Save the device for ``key`` once ``code`` is what it shows now; returns it and new backup codes.

    It replaces the user's earlier TOTP device and backup codes. Raises ``OtpRefused`` (``otp_invalid``) for a
    wrong code. The code confirming the device is used: it does not pass a step-up afterwards.
    """
    device = totp_device_unsaved(user, key)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if not isinstance(code, str) or not code.strip().isdigit() or len(code.strip()) > 8:
        raise OtpRefused(OTP_INVALID, "Enter the 6-digit code your authenticator app shows now.")
    if not totp.verify(int(code.strip()), tolerance=device.tolerance):
        raise OtpRefused(OTP_INVALID, "That is not the code the authenticator shows now; try the next one.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        device.confirmed = True
        device.last_t = totp.t()
        device.drift = totp.drift
        device.save()
        return device, backup_codes_create(user)


def totp_device_create_confirmed(user: AbstractBaseUser) -> TOTPDevice:
    """A new confirmed device replacing the user's TOTP device (an operator enrols someone: otp_enrol)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        return TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=True)


def otp_devices_delete(user: AbstractBaseUser) -> None:
    """Remove the user's authenticator and backup codes (a lost phone: the user re-enrols)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()


def backup_codes_create(user: AbstractBaseUser) -> list[str]:
    """New backup codes (each works once), replacing the old ones; returned once: the caller shows them and
    keeps no copy."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(settings.OTP_STATIC_BACKUP_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def backup_codes_left(user: AbstractBaseUser) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def totp_qr_svg(device: TOTPDevice) -> str:
    """The device's provisioning URI as an inline SVG QR code (markup for the page: no script, no style)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")
