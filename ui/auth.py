"""Who may use the REST API and the UI: an auth file (TOML) mapping bearer tokens, and usernames
with passwords, to convrec user ids. Only hashes are stored: tokens as SHA-256 (they are 256 random
bits, so a fast hash is enough), passwords as scrypt with a per-password salt.

    [[users]]
    user_id = "196"                  # the convrec user this login acts as
    username = "ann"                 # optional: for the UI's login form
    password = "scrypt$16384$8$1$<salt>$<hash>"   # optional, from hash_password()
    tokens = ["sha256$<hex>"]        # bearer tokens for the REST API, from hash_token()

``convrec auth add USER_ID --username ann`` appends such an entry and prints the new token once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import tomllib
from pathlib import Path

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

# scrypt's recommended interactive cost (2**14, 8, 1): about 50 ms and 16 MB per check
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


class AuthError(ValueError):
    """The auth file is missing, unreadable or malformed; the message says where."""


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password``, in the auth file's format."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = base64.urlsafe_b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        salt_b, digest_b = base64.urlsafe_b64decode(salt), base64.urlsafe_b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=salt_b, n=int(n), r=int(r), p=int(p),
                             dklen=len(digest_b), maxmem=256 * 1024 * 1024)
    except ValueError:
        return False
    return hmac.compare_digest(got, digest_b)


def hash_token(token: str) -> str:
    return "sha256$" + hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class Account(BaseModel):
    """One entry of the auth file."""

    user_id: str = Field(min_length=1, max_length=128)
    username: str | None = Field(None, min_length=1, max_length=128)
    password: str | None = Field(None, description="scrypt hash from hash_password()")
    tokens: list[str] = Field(default_factory=list, description="sha256 hashes from hash_token()")

    @field_validator("password")
    @classmethod
    def _hashed_password(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("scrypt$"):
            raise ValueError("password must be a scrypt hash (convrec auth add writes one), not a plain password")
        return v

    @field_validator("tokens")
    @classmethod
    def _hashed_tokens(cls, v: list[str]) -> list[str]:
        if any(not t.startswith("sha256$") or len(t) != 71 for t in v):
            raise ValueError("tokens must be sha256 hashes (convrec auth add writes them), not plain tokens")
        return v

    @model_validator(mode="after")
    def _can_log_in(self) -> Account:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        if not self.tokens and self.username is None:
            raise ValueError("an account needs a token or a username and password")
        return self


class Auth(BaseModel):
    """The parsed auth file: look a bearer token or a login up, get the user id it acts as."""

    users: list[Account] = Field(default_factory=list)
    _by_token: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _unique(self) -> Auth:
        names = [a.username for a in self.users if a.username]
        tokens = [t for a in self.users for t in a.tokens]
        if len(set(names)) != len(names):
            raise ValueError("a username appears twice")
        if len(set(tokens)) != len(tokens):
            raise ValueError("a token appears twice")
        return self

    @classmethod
    def load(cls, path: str | Path) -> Auth:
        path = Path(path)
        try:
            return cls.model_validate(tomllib.loads(path.read_text()))
        except OSError as e:
            raise AuthError(f"cannot read the auth file {path}: {e}") from None
        except tomllib.TOMLDecodeError as e:
            raise AuthError(f"auth file {path} is not valid TOML: {e}") from None
        except ValidationError as e:
            why = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
            raise AuthError(f"auth file {path} is not valid: {why}") from None

    def model_post_init(self, context) -> None:
        # looked up by the token's hash: a lookup's timing tells nothing about a stored token itself
        self._by_token = {t: a.user_id for a in self.users for t in a.tokens}

    def user_for_token(self, token: str) -> str | None:
        """The user id a bearer token acts as, or None for an unknown token."""
        return self._by_token.get(hash_token(token))

    def check_password(self, username: str, password: str) -> bool:
        """Gradio's ``auth=`` callable: True when the username exists and the password matches."""
        account = self._by_username(username)
        return account is not None and verify_password(password, account.password or "")

    def user_for_login(self, username: str) -> str | None:
        account = self._by_username(username)
        return None if account is None else account.user_id

    def _by_username(self, username: str) -> Account | None:
        return next((a for a in self.users if a.username == username), None)


def add_account(path: str | Path, user_id: str, username: str | None = None,
                password: str | None = None) -> str:
    """Append an account (a fresh token, optionally a login) to the auth file; returns the token."""
    path = Path(path)
    auth = Auth.load(path) if path.exists() else Auth()
    if username is not None and auth.user_for_login(username) is not None:
        raise AuthError(f"username {username!r} is already in {path}")
    token = new_token()
    account = Account(user_id=user_id, username=username,
                      password=hash_password(password) if password is not None else None,
                      tokens=[hash_token(token)])
    # TOML basic strings take JSON's escapes, so json.dumps writes valid TOML values
    lines = ["", "[[users]]", f"user_id = {json.dumps(user_id)}"]
    if username is not None:
        lines += [f"username = {json.dumps(username)}", f"password = {json.dumps(account.password)}"]
    lines.append(f"tokens = [{json.dumps(account.tokens[0])}]")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write("\n".join(lines) + "\n")
    path.chmod(0o600)
    return token
