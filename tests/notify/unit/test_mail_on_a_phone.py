"""Every mail read on a phone (375 px wide, Chromium): nothing runs off the screen sideways.

The applicant's page link carries a 43-character key and a password link a long token: unbroken,
they pushed the acknowledgement and the request for information 70 px past a phone's edge.
"""
from dataclasses import replace
from email import message_from_bytes, policy

import pytest

from services.notify.mail import compose
from shared.events import LANGUAGES
from tests.notify import samples
from tests.notify.unit.test_mail import NOW, RENDERER, SETTINGS, UNSUBSCRIBE

KEY = "fXTextqBhRoszvLvWF7vL7er5_MibsXEaWuEJqwTHpo"
LONG = {"page_url": f"https://join.uclg.example/applications/HRC-2026-KJWZ8/{KEY}",
        "link": f"https://console.uclg.example/password/{KEY}{KEY}"}


def html_of(notification) -> str:
    data = {**notification.context, **{k: v for k, v in LONG.items() if k in notification.context}}
    if notification.template in ("acknowledgement", "info_requested", "waitlisted"):
        data["page_url"] = LONG["page_url"]
    mail = compose(replace(notification, context=data), RENDERER, SETTINGS, NOW, UNSUBSCRIBE)
    raw = mail.as_bytes()
    return message_from_bytes(raw, policy=policy.default).get_body(("html",)).get_content()


def test_no_mail_is_wider_than_a_phone(browser):
    page = browser.new_page(viewport={"width": 375, "height": 800})
    too_wide = {}
    try:
        for language in LANGUAGES:
            for notification in samples.every_notification(language):
                page.set_content(html_of(notification))
                extra = page.evaluate("document.documentElement.scrollWidth - innerWidth")
                if extra > 0:
                    too_wide[f"{language}-{notification.template}"] = extra
    finally:
        page.close()
    assert too_wide == {}


@pytest.mark.parametrize("template", ["acknowledgement", "info_requested"])
def test_the_long_link_is_in_the_mail_whole(template):
    [notification] = [n for n in samples.every_notification("fr") if n.template == template]
    assert f'href="{LONG["page_url"]}"' in html_of(notification)
