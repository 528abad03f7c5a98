"""Mails tell applicants to write where the privacy notice does."""
from services.notify.settings import load
from shared.config import Knobs


def reply_to(**config) -> str:
    return load(Knobs(config)).mail.reply_to


def test_mails_name_the_secretariat_the_privacy_notice_names():
    assert reply_to(SECRETARIAT_EMAIL="droits@uclg.example") == "droits@uclg.example"


def test_a_reply_address_of_its_own_still_wins_and_staff_is_the_last_resort():
    assert reply_to(SECRETARIAT_EMAIL="droits@uclg.example",
                    MAIL_REPLY_TO="replies@uclg.example") == "replies@uclg.example"
    assert reply_to(SECRETARIAT_EMAIL="", MAIL_REPLY_TO="") != ""
