"""Recovery codes: how they look, how they are typed back, and the digest that is stored.

A code is 10 characters from a 31-letter alphabet without look-alikes (0/o, 1/l/i): about
49 bits, shown as ``abcde-fghjk``. That is far beyond guessing online (five wrong codes
lock the account, as wrong passwords do), so a fast keyed hash is enough to store it: an
HMAC-SHA256 keyed with SECRET_KEY (Django's salted_hmac), which a stolen database alone
cannot reverse. A slow password hash would cost a second for each of ten codes per try.
(Rotating SECRET_KEY therefore voids the codes: users make new ones on the two-factor page.)
"""

from __future__ import annotations

import secrets

from django.utils.crypto import salted_hmac

ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 10
CODES_PER_SET = 10
DIGEST_SALT = "bookshelf.accounts.recovery-code"


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalize_recovery_code(typed: str) -> str:
    """What the user typed, as it was made: any case, spaces and dashes ignored."""
    return "".join(ch for ch in typed.lower() if ch not in " -\t")


def looks_like_recovery_code(typed: str) -> bool:
    code = normalize_recovery_code(typed)
    return len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code)


def recovery_code_digest(typed: str) -> str:
    return salted_hmac(DIGEST_SALT, normalize_recovery_code(typed), algorithm="sha256").hexdigest()
