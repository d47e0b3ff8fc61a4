"""Sign-in lockout (django-axes): failed passwords per username and address, refused while locked."""

from axes.backends import AxesStandaloneBackend


class LoginLockoutBackend(AxesStandaloneBackend):
    """Axes' check for every sign-in through a request (the login page, the admin's).

    ``authenticate()`` without a request is no attempt from the network (a management command, a
    test's ``client.login``): axes cannot tell its address, so it is left to the next backend instead
    of failing.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
