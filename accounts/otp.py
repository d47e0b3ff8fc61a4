"""The one-time-password step-up (django-otp TOTP) a person gives in the same request to do what moves money:
deploy or resume a strategy, release a kill switch, change risk parameters.

Views call ``otp_verify(user, code)``; it answers nothing when the code is right and raises a 403 whose code
says what to do otherwise: enrol a device (``otp_not_enrolled``), send a code (``otp_required``), or send the
current one (``otp_invalid``).
"""

from django.contrib.auth.models import AbstractBaseUser
from django_otp import devices_for_user, match_token
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
