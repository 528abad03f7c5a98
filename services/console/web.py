"""The console's HTTP plumbing: pages rendered in the reader's language, the session cookie,
CSRF tokens, and HTML (never JSON) for errors, unknown paths included.

Every form carries a CSRF token: a signed-in person's is their session's; the forms before
signing in (sign-in, forgotten password, new password) use a double-submit cookie.
"""
from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from services.console import i18n
from services.console.accounts import SignedIn
from services.console.domain import Permission, may, new_secret
from shared.attachments import size_label
from shared.campaign import campaign_name

TEMPLATES_DIR = Path(__file__).parent / "templates"
SESSION_COOKIE = "hrc_console"
FORM_COOKIE = "hrc_console_form"
CSRF_FIELD = "csrf_token"


@functools.cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(("html",)),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)
    env.policies["ext.i18n.trimmed"] = True
    # The templates' ``_`` needs a template context; labels made in Python use the catalog.
    gettext = i18n.translations(language).gettext
    env.filters["pair"] = lambda value, label: (value, label(value))
    env.filters["theme"] = lambda t: gettext(i18n.THEMES.get(t, t))
    env.filters["import_problem"] = lambda text: i18n.import_problem(text, gettext)
    env.filters["number"] = lambda n: format_decimal(n, locale=language) if n is not None else "—"
    env.globals.update(
        application_statuses=[s for s in i18n.STATUSES if s not in ("active", "erased", "planned",
                                                                     "open", "closed")],
        regions=list(i18n.REGIONS),
        themes=list(i18n.THEMES),
        wave_label=lambda n: gettext("Wave %(number)s") % {"number": n},
        lang=language,
        campaign=campaign_name(language),
        languages=i18n.LANGUAGE_NAMES,
        status_label=lambda s: gettext(i18n.STATUSES.get(s, s or "")),
        theme_label=lambda t: gettext(i18n.THEMES.get(t, t)),
        jurisdiction_label=lambda j: gettext(i18n.JURISDICTIONS.get(j, j or "")),
        region_label=lambda r: gettext(i18n.REGIONS.get(r, r or "")),
        action_label=lambda a: gettext(i18n.action(a)),
        actor_label=lambda who: gettext(i18n.ACTORS[who]) if who in i18n.ACTORS else who,
        size_label=lambda size: size_label(size, language),
        mail_label=lambda m: gettext(i18n.MAILS.get(m, m)),
        mail_status=lambda m: gettext(i18n.MAIL_STATUSES.get(m, m)),
        event_label=lambda e: gettext(i18n.EVENTS[e]) if e in i18n.EVENTS else (e or "?"),
        digest_label=lambda d: gettext(i18n.DIGESTS[d]) if d in i18n.DIGESTS else d,
        country_name=lambda c: i18n.country_name(c, language),
        may=may,
        Permission=Permission,
        query=_query,
    )
    return env


def _query(args: dict[str, Any], **changes: Any) -> str:
    merged = {k: v for k, v in {**args, **changes}.items() if v not in (None, "")}
    return "?" + urlencode(merged) if merged else ""


@dataclass
class View:
    """One request as the pages see it: who is signed in, in which language, its form token."""

    request: Request
    language: str
    signed_in: SignedIn | None
    secure: bool
    form_token: str = ""
    new_form_cookie: bool = False
    cookies: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    @classmethod
    def of(cls, request: Request, signed_in: SignedIn | None, secure: bool) -> View:
        language = (signed_in.account.language if signed_in else
                    i18n.language_of(request.args.get("lang"), request.accept_languages))
        view = cls(request, language, signed_in, secure)
        if signed_in:
            view.form_token = signed_in.session.csrf
        else:
            view.form_token = request.cookies.get(FORM_COOKIE) or new_secret()
            view.new_form_cookie = FORM_COOKIE not in request.cookies
        return view

    def speak(self, language: str) -> None:
        """The page's language when it is about an account (unless ``?lang=`` chose one)."""
        if self.request.args.get("lang") not in i18n.LANGUAGE_NAMES:
            self.language = language

    @property
    def account(self):
        return self.signed_in.account if self.signed_in else None

    def gettext(self, message: str, **values: Any) -> str:
        text = i18n.translations(self.language).gettext(message)
        return text % values if values else text

    def csrf_ok(self) -> bool:
        sent = self.request.form.get(CSRF_FIELD, "")
        if self.signed_in:
            expected = self.signed_in.session.csrf
        else:
            expected = self.request.cookies.get(FORM_COOKIE, "")
        return bool(sent) and bool(expected) and hmac.compare_digest(sent, expected)

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        html = environment(self.language).get_template(template).render(
            view=self, account=self.account, csrf_field=CSRF_FIELD, csrf=self.form_token,
            path=self.request.path, args=self.request.args.to_dict(), **context)
        return self.finish(Response(html, status=status, mimetype="text/html"))

    def redirect(self, location: str) -> Response:
        return self.finish(Response("", status=303, headers={"Location": location}))

    def finish(self, response: Response) -> Response:
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        if self.new_form_cookie and not self.signed_in:
            self.set_cookie(FORM_COOKIE, self.form_token, samesite="Strict")
        for name, value, options in self.cookies:
            if value:
                response.set_cookie(name, value, httponly=True, secure=self.secure, path="/",
                                    **options)
            else:
                response.delete_cookie(name, path="/", httponly=True, secure=self.secure,
                                       samesite=options.get("samesite", "Lax"))
        return response

    def set_cookie(self, name: str, value: str, samesite: str = "Lax") -> None:
        self.cookies.append((name, value, {"samesite": samesite}))


def sign_in_location(request: Request) -> str:
    target = request.full_path.rstrip("?") if request.method == "GET" else request.path
    return "/login?next=" + quote(target, safe="")


def unknown_route_page(request: Request, exc: HTTPException) -> Response:
    """An unknown path or method, answered by the console's error page (shared.http asks)."""
    language = i18n.language_of(request.args.get("lang"), request.accept_languages)
    code = exc.code or 404
    return View(request, language, None, False).render("error.html", code, code=code)
