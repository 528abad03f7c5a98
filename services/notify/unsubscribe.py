"""One-click unsubscribe from announcements (RFC 8058, RFC 2369): the link and its pages.

Each announcement carries ``List-Unsubscribe: <NOTIFY_PUBLIC_URL/unsubscribe/<token>>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``. The token names the mail it came in
(the log's row id) and is signed with notify's secret over that id and the recipient's address:
it shows no address, cannot be guessed or forged, and works only while the log still holds the
mail to that address (an erased person's link is dead).

A mail client unsubscribes with a POST to the link (no cookie, no CSRF token: RFC 8058 says the
POST itself is the one click). A person who opens the link gets a page with a button that POSTs:
link scanners that GET every URL in a mail unsubscribe no one. Pure: no database, no nameko.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from babel import negotiate_locale

from shared.campaign import LANGUAGES

from .domain import DEFAULT_LANGUAGE
from .mail import Renderer

_SIGNATURE_CHARS = 32  # 192 bits of HMAC-SHA256, base64url
_TOKEN = re.compile(r"([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{32})")  # <mail id>.<signature>
_LARGEST_ID = 2**31 - 1  # the log's id column is a 32-bit integer


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Signer:
    """Signs and checks unsubscribe tokens with notify's secret (NOTIFY_SECRET)."""

    secret: str

    def token(self, mail_id: int, recipient: str) -> str:
        return f"{mail_id}.{self._signature(mail_id, recipient)}"

    def opens(self, token: str, mail_id: int, recipient: str) -> bool:
        """Whether ``token`` was made by this signer for this mail to this address."""
        found = _TOKEN.fullmatch(token)
        return found is not None and hmac.compare_digest(
            found.group(2), self._signature(mail_id, recipient))

    def _signature(self, mail_id: int, recipient: str) -> str:
        message = f"unsubscribe\x00{mail_id}\x00{recipient.strip().lower()}".encode()
        digest = hmac.new(self.secret.encode(), message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii")[:_SIGNATURE_CHARS]


def mail_id(token: str) -> int | None:
    """The mail a well-formed token names (None: not a token at all); its signature is checked
    against that mail's recipient by ``Signer.opens``."""
    found = _TOKEN.fullmatch(token or "")
    if found is None:
        return None
    number = int(found.group(1))
    return number if number <= _LARGEST_ID else None


def link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/unsubscribe/{token}"


def page_language(requested: str | None, accept_language: str | None) -> str:
    """For a page about no known mail (a bad link): ``?lang=``, else the browser's language."""
    if requested in LANGUAGES:
        return requested
    preferred = [item.split(";")[0].strip() for item in (accept_language or "").split(",")]
    found = negotiate_locale([tag.split("-")[0] for tag in preferred if tag], LANGUAGES)
    return found or DEFAULT_LANGUAGE


# What a page says: the question (with its button), done, or a link that opens nothing.
ASK, DONE, UNKNOWN = "ask", "done", "unknown"


class Pages:
    """The unsubscribe pages, in en/fr/es, in the mails' own templates and catalogs."""

    def __init__(self, renderer: Renderer | None = None) -> None:
        self._renderer = renderer or Renderer()

    def render(self, state: str, language: str, *, secretariat: str, privacy_url: str,
               token: str = "", already: bool = False) -> str:
        return self._renderer.environment(language).get_template("pages/unsubscribe.html").render(
            state=state, token=token, already=already, privacy_url=privacy_url,
            secretariat=secretariat)
