"""A passkey in software, for the unit tests: it answers the options our views send with the
JSON a browser would post back (WebAuthn Level 3: a P-256 key, "none" attestation, signed
assertions), so the views verify real signatures with py_webauthn, nothing faked.

The browser's part is played too: the origin written into the client data is the page's
(``origin``), which a phishing page cannot choose in a real browser; tests pass another one
to check that it is refused."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from base64 import urlsafe_b64encode
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

USER_PRESENT, USER_VERIFIED, ATTESTED_DATA = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class SoftAuthenticator:
    """One passkey (made by ``register``), used by ``sign``."""

    def __init__(self, origin: str = "https://testserver") -> None:
        self.origin = origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,  # as the options carry it: base64url
                "origin": origin or self.origin,
                "crossOrigin": False,
            }
        ).encode()

    def _cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def register(self, options: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        """What navigator.credentials.create(options) gives the page, as JSON."""
        rp_id_hash = hashlib.sha256(options["rp"]["id"].encode()).digest()
        authenticator_data = (
            rp_id_hash
            + bytes([USER_PRESENT | USER_VERIFIED | ATTESTED_DATA])
            + struct.pack(">I", self.sign_count)
            + bytes(16)  # AAGUID: zeros, as privacy-minded authenticators send
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self._cose_public_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": authenticator_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {"credProps": {"rk": True}},
        }

    def sign(self, options: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        """What navigator.credentials.get(options) gives the page, as JSON."""
        self.sign_count += 1
        rp_id_hash = hashlib.sha256(options["rpId"].encode()).digest()
        authenticator_data = (
            rp_id_hash + bytes([USER_PRESENT | USER_VERIFIED]) + struct.pack(">I", self.sign_count)
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(
            authenticator_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(authenticator_data),
                "signature": b64url(signature),
            },
            "clientExtensionResults": {},
        }
