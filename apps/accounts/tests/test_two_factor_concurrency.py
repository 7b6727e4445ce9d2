"""Two-factor under requests that arrive at the same moment: real threads on their own
database connections, released together by a barrier.

- One recovery code sent by several requests at once signs in once (the device row is locked
  in ``code_verify``, and the code is spent by a conditional UPDATE).
- One authenticator code sent by several requests at once signs in once: the replay check
  on ``last_t`` runs under the device's row lock.
- A user who must keep a second factor, removing both of theirs from two tabs at once,
  keeps one: ``factor_remove`` locks the user's row, so the second removal counts again
  after the first one committed and is refused.

Codes are computed from the key as an authenticator app would (as in test_two_factor.py).
"""

from __future__ import annotations

import os
import time
from binascii import unhexlify
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.core import mail
from django.test import RequestFactory
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from apps.accounts import two_factor
from apps.accounts.models import RecoveryCode, RecoveryCodeDevice, User
from apps.accounts.passkeys import WebAuthnCredential
from apps.accounts.recovery_codes import CODES_PER_SET, recovery_code_digest
from apps.accounts.tests.factories import UserFactory
from apps.core.tests.support import ROW_LOCKS, in_role, postgres_only, race

pytestmark = [
    postgres_only(ROW_LOCKS),
    pytest.mark.django_db(transaction=True),
]

THREADS = 8  # requests carrying the same code at once
ROUNDS = 5  # the race can take a different shape each time; run it a few times


def is_refused_code(outcome: Any) -> bool:
    """What ``code_verify`` answers a code it does not accept: None, or its exception for
    "every device is throttled" (a wrong try throttles the device for a moment)."""
    return outcome is None or (
        isinstance(outcome, Exception)
        and type(outcome).__module__.startswith("apps.accounts")
        and "throttl" in type(outcome).__name__.lower()
    )


def fresh(user: User) -> User:
    """The user as one request loads it (its own instance, no shared caches)."""
    return User.objects.get(pk=user.pk)


# --- One code, many requests -------------------------------------------------------------------


def test_one_recovery_code_sent_by_many_requests_at_once_is_accepted_once():
    for round_ in range(ROUNDS):
        user = UserFactory(username=f"rosa{round_}")
        codes = two_factor.recovery_codes_generate(user=user)
        device = RecoveryCodeDevice.objects.get(user=user)

        requests = {
            f"request {n}": partial(two_factor.code_verify, user=fresh(user), code=codes[0])
            for n in range(THREADS)
        }
        outcomes = list(race(**requests).values())

        accepted = [o for o in outcomes if isinstance(o, RecoveryCodeDevice)]
        assert len(accepted) == 1, outcomes
        assert accepted[0].pk == device.pk
        assert all(is_refused_code(o) for o in outcomes if o is not accepted[0]), outcomes
        used = RecoveryCode.objects.filter(device=device, used_at__isnull=False)
        assert used.count() == 1
        assert used.get().digest == recovery_code_digest(codes[0])
        assert device.codes_left() == len(codes) - 1


def test_one_authenticator_code_sent_by_many_requests_at_once_is_accepted_once():
    for round_ in range(ROUNDS):
        user = UserFactory(username=f"tom{round_}")
        device = TOTPDevice.objects.create(
            user=user, name="Phone", key=random_hex(20), step=30, digits=6, confirmed=True
        )
        totp = TOTP(unhexlify(device.key), step=30, digits=6)
        totp.time = time.time()
        code, step = f"{totp.token():06d}", totp.t()

        requests = {
            f"request {n}": partial(two_factor.code_verify, user=fresh(user), code=code)
            for n in range(THREADS)
        }
        outcomes = list(race(**requests).values())

        accepted = [o for o in outcomes if isinstance(o, TOTPDevice)]
        assert len(accepted) == 1, f"the code was replayed: {outcomes}"
        assert accepted[0].pk == device.pk
        assert all(is_refused_code(o) for o in outcomes if o is not accepted[0]), outcomes
        device.refresh_from_db()
        assert device.last_t == step


# --- The last factor of a user who must have one ---------------------------------------------


def authenticator(user: User, name: str) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name=name, key=random_hex(20), confirmed=True)


def passkey(user: User, name: str) -> Any:
    """A confirmed passkey row, as a registration leaves it (no ceremony: only its removal
    is tested here)."""
    return WebAuthnCredential.objects.create(
        user=user,
        name=name,
        confirmed=True,
        credential_id=os.urandom(32),
        public_key=os.urandom(77),
        aaguid="00000000-0000-0000-0000-000000000000",
    )


def removal_request(user: User) -> Any:
    """The POST of the remove button, as the view hands it on (log_event and the security
    notice read its user, address, User-Agent and host)."""
    request = RequestFactory().post(
        "/accounts/two-factor/remove/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Firefox"
    )
    request.user = user
    return request


def removal(user: User, device: Any) -> Callable[[], None]:
    """One tab's click: its own request, its own copy of the user and of the device."""
    user = fresh(user)
    device = type(device).objects.get(pk=device.pk)
    return partial(
        two_factor.factor_remove, request=removal_request(user), user=user, device=device
    )


@pytest.mark.parametrize(
    "make_first, make_second",
    [(authenticator, authenticator), (authenticator, passkey)],
    ids=["two authenticators", "an authenticator and a passkey"],
)
def test_removing_both_factors_at_once_keeps_one_for_an_admin(make_first, make_second):
    for round_ in range(ROUNDS):
        mail.outbox.clear()
        user = in_role("Admins", username=f"ada{round_}")
        assert two_factor.must_use_two_factor(fresh(user))
        devices = [make_first(user, "Phone"), make_second(user, "Laptop")]
        two_factor.recovery_codes_generate(user=user)

        outcomes = list(
            race(first=removal(user, devices[0]), second=removal(user, devices[1])).values()
        )

        assert outcomes.count(None) == 1, f"both were removed: {outcomes}"
        (refusal,) = [o for o in outcomes if o is not None]
        assert isinstance(refusal, PermissionError), outcomes
        assert "keeps at least one second factor" in str(refusal)
        kept = two_factor.factors_of(user)
        assert len(kept) == 1
        # The refused removal is the one whose factor is still there.
        assert (type(kept[0]), kept[0].pk) == (
            type(devices[outcomes.index(refusal)]),
            devices[outcomes.index(refusal)].pk,
        )
        # Two-factor stayed on: the recovery codes were kept; one notice, "removed".
        assert two_factor.recovery_codes_left(user) == CODES_PER_SET
        assert [m.subject for m in mail.outbox] == [
            "Bookshelf: A second factor was removed from your account"
        ]
