"""API keys: an access key id and a secret, like AWS credentials.

The secret is needed in clear to verify AWS SigV4 signatures, so it is stored encrypted
(AES-256-GCM), never only hashed. The key-encryption key is derived from the store's
encryption key when one is configured, else it is a random key kept in the data directory
with mode 0600. The ``Keyring`` holds the live keys in memory; checking a credential is a
dictionary lookup and a constant-time comparison.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from logpond.model.clock import Clock
from logpond.model.errors import AuthenticationError, InvalidParameterError, LogpondError
from logpond.store.base import AccessKeyRecord, Store

from .policy import Principal, compile_policy, role_policy

__all__ = ["Credentials", "Keyring", "SecretBox", "generate_credentials"]

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
KEYRING_FILE = "keyring.key"
ROOT_CREDENTIALS_FILE = "root-credentials"
ROOT_DESCRIPTION = "root"


@dataclass(frozen=True, slots=True)
class Credentials:
    """An access key id and its secret; the secret is shown once, at creation."""

    access_key_id: str
    secret_access_key: str

    def __repr__(self) -> str:  # never print the secret by accident
        return f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key='***')"


def generate_credentials() -> Credentials:
    """A new key: ``LP`` + 18 base32 characters, and a 40-character secret."""
    key_id = "LP" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(18))
    return Credentials(key_id, secrets.token_urlsafe(30))


class SecretBox:
    """Encrypts secrets at rest with AES-256-GCM under the key-encryption key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def for_data_dir(cls, data_dir: Path, encryption_key: str | None) -> SecretBox:
        if encryption_key:
            derived = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=b"logpond access key secrets"
            ).derive(encryption_key.encode())
            return cls(derived)
        path = data_dir / KEYRING_FILE
        if path.exists():
            key = path.read_bytes()
            if len(key) != 32:
                raise LogpondError("keyring file is damaged", path=str(path))
            return cls(key)
        data_dir.mkdir(parents=True, exist_ok=True)
        key = AESGCM.generate_key(bit_length=256)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return cls(key)

    def seal(self, secret: str, key_id: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, secret.encode(), key_id.encode())

    def open(self, sealed: bytes, key_id: str) -> str:
        return self._aead.decrypt(sealed[:12], sealed[12:], key_id.encode()).decode()


@dataclass(frozen=True, slots=True)
class _LiveKey:
    secret: str
    principal: Principal
    description: str
    created_ms: int


class Keyring:
    """The live API keys, loaded from the store and kept in step with it."""

    def __init__(self, store: Store, box: SecretBox, clock: Clock) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self._keys: dict[str, _LiveKey] = {}
        self._lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        keys = {}
        for record in self._store.list_keys():
            if record.revoked_ms is not None:
                continue
            keys[record.access_key_id] = self._live(record)
        with self._lock:
            self._keys = keys

    def _live(self, record: AccessKeyRecord) -> _LiveKey:
        return _LiveKey(
            secret=self._box.open(record.encrypted_secret, record.access_key_id),
            principal=Principal(
                record.access_key_id,
                compile_policy(record.policy),
                is_root=record.description == ROOT_DESCRIPTION,
            ),
            description=record.description,
            created_ms=record.created_ms,
        )

    def authenticate(self, access_key_id: str, secret: str) -> Principal:
        """The principal for a credential; an unknown id or wrong secret is refused alike."""
        key = self._keys.get(access_key_id)
        if key is None or not hmac.compare_digest(key.secret.encode(), secret.encode()):
            raise AuthenticationError("invalid credentials")
        return key.principal

    def secret_for(self, access_key_id: str) -> tuple[str, Principal]:
        """The secret and principal of a key, for signature checks; unknown ids are refused."""
        key = self._keys.get(access_key_id)
        if key is None:
            raise AuthenticationError("unknown access key", access_key_id=access_key_id)
        return key.secret, key.principal

    def create(
        self,
        policy: Mapping[str, Any],
        *,
        description: str = "",
        credentials: Credentials | None = None,
    ) -> Credentials:
        """Store a new key with this policy; returns the credentials (the only time)."""
        compile_policy(policy)  # refuse a bad policy before storing it
        creds = credentials or generate_credentials()
        record = AccessKeyRecord(
            access_key_id=creds.access_key_id,
            encrypted_secret=self._box.seal(creds.secret_access_key, creds.access_key_id),
            policy=dict(policy),
            description=description,
            created_ms=self._clock.now_ms(),
        )
        self._store.put_key(record)
        with self._lock:
            self._keys[creds.access_key_id] = self._live(record)
        return creds

    def revoke(self, access_key_id: str) -> None:
        self._store.revoke_key(access_key_id)
        with self._lock:
            self._keys.pop(access_key_id, None)

    def list(self) -> list[AccessKeyRecord]:
        return self._store.list_keys()

    def ensure_root(self, data_dir: Path, configured: Credentials | None) -> tuple[Credentials, bool]:
        """Make sure a root key exists; returns it and whether it was just generated.

        A root key given in the environment lives in memory only: the environment stays
        its one source of truth. Otherwise the first start generates one, stores it and
        saves it, readable only by the owner, in the data directory.
        """
        admin = role_policy("admin")
        if configured is not None:
            if not configured.access_key_id or not configured.secret_access_key:
                raise InvalidParameterError("root access key id and secret must both be set")
            principal = Principal(configured.access_key_id, compile_policy(admin), is_root=True)
            with self._lock:
                self._keys[configured.access_key_id] = _LiveKey(
                    configured.secret_access_key, principal, ROOT_DESCRIPTION, self._clock.now_ms()
                )
            return configured, False
        path = data_dir / ROOT_CREDENTIALS_FILE
        for key_id, key in self._keys.items():
            if key.description == ROOT_DESCRIPTION:
                return Credentials(key_id, key.secret), False
        creds = self.create(admin, description=ROOT_DESCRIPTION)
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(
                f"export LOGPOND_ACCESS_KEY_ID={creds.access_key_id}\n"
                f"export LOGPOND_SECRET_ACCESS_KEY={creds.secret_access_key}\n"
            )
        return creds, True
