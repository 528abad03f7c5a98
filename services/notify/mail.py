"""Turn a Notification into a proper e-mail: rendered in its language, safe headers, MIME parts.

Every mail is multipart/alternative (plain text and HTML) rendered from jinja2 templates with
autoescaping, translated through gettext catalogs (translations/<lang>/LC_MESSAGES/messages.po).
No value that came from a form reaches a header unfiltered: control characters (CR and LF among
them) are removed and lengths capped before the header is written, RFC 2047-encoded where it is
not plain ASCII.

The message is written directly (``WireMail``): headers, two quoted-printable parts, CRLF. The
standard library's ``EmailMessage`` with its modern policy spent most of notify's time folding
and re-parsing headers (measured: about half of a wave's fan-out); it still writes the rare mail
that needs more than two text parts (a digest with attachments) or an address that is not ASCII.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from babel.messages import mofile, pofile
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from shared.campaign import LANGUAGES, campaign_name

from . import labels
from .domain import DIGEST, DomainError, Notification

PACKAGE_DIR = Path(__file__).parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
TRANSLATIONS_DIR = PACKAGE_DIR / "translations"

# RFC 8058: the one value of List-Unsubscribe-Post, and the body a one-click POST carries.
ONE_CLICK = "List-Unsubscribe=One-Click"
SUBJECT_LIMIT = 200
NAME_LIMIT = 100
FILENAME_LIMIT = 120


class InvalidRecipient(DomainError):
    """The address cannot be written into a To header (a permanent failure for that mail)."""


@dataclass(frozen=True)
class MailSettings:
    mail_from: str = "campaign@localhost"
    from_name: str = "UCLG — 10, 100, 1000 Human Rights Cities"
    reply_to: str = "staff@localhost"
    intake_url: str = "http://localhost:8000"
    registry_url: str = "http://localhost:8001"
    console_url: str = "http://localhost:8004"
    # Notify's public address: the announcements' one-click unsubscribe links point there.
    notify_url: str = "http://localhost:8002"
    # The privacy notice in each language (shared Settings.privacy_url_in): every footer links it.
    privacy_urls: Mapping[str, str] = field(default_factory=lambda: {
        language: f"http://localhost:8000/privacy?lang={language}" for language in LANGUAGES})

    def privacy_url(self, language: str) -> str:
        return self.privacy_urls.get(language) or self.privacy_urls.get("en", "")

    @property
    def domain(self) -> str:
        return self.mail_from.rpartition("@")[2] or "localhost"



@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


class Renderer:
    """The mail templates, one jinja2 environment per language."""

    def __init__(self, templates_dir: Path = TEMPLATES_DIR,
                 translations_dir: Path = TRANSLATIONS_DIR) -> None:
        self._templates_dir = templates_dir
        self._translations_dir = translations_dir

    @cached_property
    def _environments(self) -> dict[str, Environment]:
        return {lang: self._environment(lang) for lang in LANGUAGES}

    def _environment(self, language: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(self._templates_dir),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
            # The templates ship with the code: no stat of each file on every mail.
            auto_reload=False,
        )
        env.install_gettext_translations(self._catalogs[language], newstyle=True)
        env.policies["ext.i18n.trimmed"] = True
        env.globals["language"] = language
        env.globals["campaign"] = campaign_name(language)
        labels.install(env, language, self._catalogs[language].gettext)
        return env

    @cached_property
    def _catalogs(self) -> dict[str, NullTranslations]:
        return {lang: load_translations(self._translations_dir, lang) for lang in LANGUAGES}

    def gettext(self, language: str, message: str) -> str:
        return (self._catalogs.get(language) or self._catalogs["en"]).gettext(message)

    def environment(self, language: str) -> Environment:
        """The templates in ``language`` (English for another one): mails and notify's pages."""
        return self._environments.get(language) or self._environments["en"]

    def render(self, template: str, language: str, context: Mapping[str, Any]) -> RenderedMail:
        env = self.environment(language)
        values = {**context, "language": language}

        def part(suffix: str) -> str:
            return env.get_template(f"mail/{template}.{suffix}").render(values)

        return RenderedMail(
            subject=" ".join(part("subject.txt").split()),
            text=_BLANK_LINES.sub("\n\n", part("txt")).strip() + "\n",
            html=part("html"),
        )

    def render_filled(self, template: str, language: str,
                      context: Mapping[str, Any]) -> RenderedMail:
        """``render``, once per template, language and context but for ``FILL_IN``'s values,
        which are filled into a copy of that rendering: an announcement to 2,000 people is a
        handful of renderings, not 2,000 (rendering was most of composing a mail).

        The first rendering of each kind is checked against a direct one; a template that does
        more with those values than print them (a filter, a test on their length) is then
        rendered directly for that kind, always."""
        slots = {key: context[key] for key in FILL_IN
                 if isinstance(context.get(key), str) and context[key]}
        rest = {key: value for key, value in context.items() if key not in slots}
        kind = (template, language, tuple(sorted(slots)),
                json.dumps(rest, sort_keys=True, default=str))
        cached = self._filled.get(kind)
        if cached is _DIRECT:
            return self.render(template, language, context)
        if cached is None:
            marks = {key: f"{_MARK}{index}{_MARK}" for index, key in enumerate(slots)}
            cached = self.render(template, language, {**rest, **marks})
            filled = _fill(cached, marks, slots)
            if filled != self.render(template, language, context):
                self._filled[kind] = _DIRECT
                return self.render(template, language, context)
            if len(self._filled) >= _FILLED_KINDS:
                self._filled.clear()
            self._filled[kind] = cached
            return filled
        return _fill(cached, {key: f"{_MARK}{index}{_MARK}" for index, key in enumerate(slots)},
                     slots)

    @cached_property
    def _filled(self) -> dict[tuple, Any]:
        return {}


# What one recipient of an announcement has and the next has not; the templates only print it.
FILL_IN = ("recipient_name", "government_name", "unsubscribe_url")
# Letters only: escaping, gettext's %-formatting and whitespace folding leave it as it is.
_MARK = f"FILLIN{secrets.token_hex(6)}X"
_DIRECT = object()
_FILLED_KINDS = 256


def _fill(rendered: RenderedMail, marks: Mapping[str, str],
          values: Mapping[str, str]) -> RenderedMail:
    subject, text, html = rendered.subject, rendered.text, rendered.html
    for key, mark in marks.items():
        value = values[key]
        subject = subject.replace(mark, value)
        text = text.replace(mark, value)
        html = html.replace(mark, str(escape(value)))
    return RenderedMail(subject, text, html)


_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def load_translations(translations_dir: Path, language: str) -> NullTranslations:
    """Read a .po catalog straight from source: no compile step to forget."""
    po = translations_dir / language / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = pofile.read_po(handle, locale=language)
    buffer = io.BytesIO()
    mofile.write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def compose(
    notification: Notification,
    renderer: Renderer,
    settings: MailSettings,
    now: datetime,
    unsubscribe: str | None = None,
) -> WireMail | EmailMessage:
    """The complete message for one notification, ready for SMTP (``as_bytes()``).

    ``unsubscribe``: an announcement's one-click link (``unsubscribe.link``), in its headers
    (RFC 2369, RFC 8058) and its footer; other mails have none."""
    unsubscribe = unsubscribe if notification.announcement else None
    context = {
        **{key: _one_line(key, value) for key, value in notification.context.items()},
        "recipient_name": header_safe(notification.to.name, NAME_LIMIT),
        "links": {"intake": settings.intake_url.rstrip("/"),
                  "registry": settings.registry_url.rstrip("/"),
                  "console": settings.console_url.rstrip("/"),
                  "privacy": settings.privacy_url(notification.language)},
        "secretariat": settings.reply_to,
        "unsubscribe_url": unsubscribe or "",
    }
    if notification.template == DIGEST:
        # The digest's HTML is rendered (and escaped) by the reports service, which owns it.
        context["html"] = Markup(notification.context["html"])
    # An announcement goes to many people at once: rendered once and filled in for each.
    render = renderer.render_filled if notification.announcement else renderer.render
    rendered = render(notification.template, notification.language, context)
    if notification.template == DIGEST:
        rendered = _with_footer_links(rendered, renderer, notification.language,
                                      context["links"])
    attachments = (notification.context.get("attachments") or []
                   if notification.template == DIGEST else [])
    addresses = (notification.to.email, settings.mail_from, settings.reply_to)
    if not attachments and all(address.isascii() for address in addresses):
        return _wire_mail(notification, rendered, settings, now, unsubscribe)
    return _email_message(notification, rendered, settings, now, attachments, unsubscribe)


class WireMail:
    """A message already in its wire form (CRLF, 7-bit)."""

    def __init__(self, data: bytes):
        self.data = data

    def as_bytes(self) -> bytes:
        return self.data

    def as_string(self) -> str:
        return self.data.decode("ascii")


def _wire_mail(notification: Notification, rendered: RenderedMail, settings: MailSettings,
               now: datetime, unsubscribe: str | None) -> WireMail:
    recipient = recipient_addr_spec(notification.to.email)
    # "=_" cannot occur in quoted-printable text, so the boundary cannot occur in a part.
    boundary = f"=_{secrets.token_hex(16)}"
    headers = [
        _header("Subject", header_safe(rendered.subject, SUBJECT_LIMIT)),
        "From: " + _mailbox(header_safe(settings.from_name, NAME_LIMIT), settings.mail_from),
        "To: " + recipient,
        "Reply-To: " + settings.reply_to,
        "Date: " + format_datetime(now),
        "Message-ID: " + message_id(notification, settings.domain),
        "Auto-Submitted: auto-generated",
    ]
    if unsubscribe:
        # One line, not folded: a folded URL is one that some clients never find.
        headers += [f"List-Unsubscribe: <{header_safe(unsubscribe, 900)}>",
                    "List-Unsubscribe-Post: " + ONE_CLICK]
    headers += [
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "Content-Language: " + notification.language,
    ]
    lines = "\r\n".join(headers)
    body = "".join(
        f"--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
        f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{_quoted_printable(content)}\r\n"
        for subtype, content in (("plain", rendered.text), ("html", rendered.html))
    )
    return WireMail(f"{lines}\r\n\r\n{body}--{boundary}--\r\n".encode("ascii"))


_LINE_END = re.compile(r"\r\n|\r|\n")


def _quoted_printable(text: str) -> str:
    """The text as quoted-printable lines of at most 76 characters, CRLF between them."""
    crlf = _LINE_END.sub("\r\n", text)
    if not crlf.endswith("\r\n"):
        crlf += "\r\n"  # as EmailMessage does: a part ends with a line break
    return binascii.b2a_qp(crlf.encode("utf-8"), quotetabs=False, istext=True,
                           header=False).decode("ascii")


# Longest encoded word (RFC 2047: 75 characters) holds 45 bytes of UTF-8 in base64.
_WORD_BYTES = 45
_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*$")


def _header(name: str, value: str) -> str:
    """A one-line value as a header: plain ASCII folded at spaces, anything else encoded."""
    if value.isascii() and "=?" not in value:
        return _fold(f"{name}: {value}")
    return f"{name}: " + _encoded_words(value)


def _fold(line: str, width: int = 78) -> str:
    if len(line) <= width:
        return line
    lines, current = [], ""
    for word in line.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return "\r\n ".join(lines)


def _encoded_words(value: str) -> str:
    words, chunk, size = [], [], 0
    for ch in value:
        length = len(ch.encode("utf-8"))
        if size + length > _WORD_BYTES:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(ch)
        size += length
    words.append("".join(chunk))
    return "\r\n ".join(
        f"=?utf-8?b?{base64.b64encode(word.encode('utf-8')).decode('ascii')}?=" for word in words)


def _mailbox(name: str, address: str) -> str:
    if not name:
        return address
    if not name.isascii() or "=?" in name:
        return f"{_encoded_words(name)} <{address}>"
    if _ATOM.match(name):
        return f"{name} <{address}>"
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address}>'


def _email_message(notification: Notification, rendered: RenderedMail,
                   settings: MailSettings, now: datetime,
                   attachments: list[Mapping[str, Any]],
                   unsubscribe: str | None) -> EmailMessage:
    # A long URL has no space to fold at, and the standard policy would then encode it as
    # RFC 2047 words that no mail client reads as a link: one line (RFC 5322 allows 998).
    message = EmailMessage(policy=_ONE_LINE_HEADERS if unsubscribe else policy.SMTP)
    message["Subject"] = header_safe(rendered.subject, SUBJECT_LIMIT)
    message["From"] = Address(header_safe(settings.from_name, NAME_LIMIT),
                              addr_spec=settings.mail_from)
    # The bare address: the greeting names the person, and tools that read To as a plain list
    # of addresses (tests/e2e does) keep working.
    message["To"] = recipient_address(notification.to.email)
    message["Reply-To"] = Address(addr_spec=settings.reply_to)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(notification, settings.domain)
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe:
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = ONE_CLICK
    message.set_content(rendered.text, charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8",
                            cte="quoted-printable")
    if attachments:
        _attach(message, attachments)
    # After the parts: set_content() drops the Content-* headers already present.
    message["Content-Language"] = notification.language
    return message


_ONE_LINE_HEADERS = policy.SMTP.clone(max_line_length=998)


def _with_footer_links(rendered: RenderedMail, renderer: Renderer, language: str,
                       links: Mapping[str, str]) -> RenderedMail:
    """The digest's HTML is the reports'; the links to the console's page and to the privacy
    notice go before its end."""
    console, privacy = links["console"], links["privacy"]
    footer = str(Markup('<p>{} <a href="{}/digests">{}/digests</a></p>'
                    '<p style="font-size:12px;color:#666666;">{} <a href="{}">{}</a></p>').format(
        renderer.gettext(language, "In the staff console:"), console, console,
        renderer.gettext(language, "What the campaign keeps about you, why, for how long, and "
                                   "how to ask for a copy or its erasure:"),
        privacy, renderer.gettext(language, "privacy notice")))
    html = rendered.html
    at = html.rfind("</body>")
    html = html[:at] + footer + html[at:] if at >= 0 else html + footer
    return RenderedMail(rendered.subject, rendered.text, html)


# Free text that may span lines; every other string in a mail's context is a one-line value.
_MULTILINE = frozenset({"message", "reason", "text", "html", "error"})


def _one_line(key: str, value: Any) -> Any:
    if key in _MULTILINE:
        return value
    if isinstance(value, str):
        return header_safe(value, 1000)
    if isinstance(value, Mapping):
        return {k: _one_line(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_one_line(key, v) for v in value]
    return value


def message_id(notification: Notification, domain: str) -> str:
    """Stable per (event, recipient, template): a re-sent copy is recognisably the same mail."""
    digest = hashlib.sha256("\x00".join(notification.key).encode()).hexdigest()[:32]
    return f"<{digest}.{notification.template}@{domain}>"


def recipient_address(email: str) -> Address:
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in email):
        raise InvalidRecipient(f"address with control characters or spaces: {email!r}")
    try:
        return Address(addr_spec=email)
    except (ValueError, IndexError) as exc:
        raise InvalidRecipient(f"invalid address {email!r}: {exc}") from exc


def recipient_addr_spec(email: str) -> str:
    """``recipient_address(email).addr_spec``: an address of dot-atoms, as nearly all are, is
    its own addr-spec, without the header parser's tokens (a tenth of composing a mail)."""
    if _DOT_ATOM_ADDRESS.match(email):
        return email
    return recipient_address(email).addr_spec


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM_ADDRESS = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\Z")
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029\x85]+")


def header_safe(value: str, limit: int) -> str:
    """One line of printable text: line breaks become spaces, other controls vanish, capped."""
    value = str(value)
    # Printable (str.isprintable: no Cc, Cf, Cs, no line or paragraph separator) is what the
    # two passes below would leave unchanged; checking it in C spared them for nearly every
    # value of every mail.
    if not value.isprintable():
        value = _LINE_BREAKS.sub(" ", value)
        value = "".join(ch for ch in value if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    value = " ".join(value.split())
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value


_MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_CONTENT_ID = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.@-]{1,200}$")


def _attach(message: EmailMessage, attachments: list[Mapping[str, Any]]) -> None:
    html_part = message.get_payload()[1]
    for attachment in attachments:
        try:
            content = base64.b64decode(attachment["content_base64"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DomainError(f"attachment {attachment.get('filename')!r} is not base64") from exc
        content_type = str(attachment.get("content_type") or "").lower()
        if not _MIME_TYPE.match(content_type):
            content_type = "application/octet-stream"
        maintype, subtype = content_type.split("/", 1)
        filename = header_safe(attachment.get("filename") or "attachment", FILENAME_LIMIT)
        filename = filename.replace("/", "_").replace("\\", "_") or "attachment"
        cid = attachment.get("content_id")
        if cid and _CONTENT_ID.match(cid):
            html_part.add_related(content, maintype=maintype, subtype=subtype,
                                  cid=f"<{cid}>", filename=filename, disposition="inline")
        else:
            message.add_attachment(content, maintype=maintype, subtype=subtype,
                                   filename=filename)
