"""What the application page gathers from the staff APIs, with a fake API (no HTTP)."""
import pytest

from services.console import desk
from shared.staff_api import StaffApiError

ANSWERS = {"reference": "HRC-2026-00001", "items": [
    {"message": "Voici la délibération.", "answered_at": "2026-03-02T10:00:00",
     "attachments": [{"id": "a1", "filename": "délibération.pdf", "content_type":
                      "application/pdf", "size": 2048, "sha256": "0" * 64,
                      "url": "/api/attachments/a1"}]},
]}


class FakeIntake:
    def __init__(self):
        self.files = {"/api/attachments/a1": (b"%PDF-1.4", "application/pdf", "attachment")}

    def get(self, path, **params):
        if path == "/api/applications/HRC-2026-00001/answers":
            return ANSWERS
        return {"reference": path.split("/")[3], "items": []}

    def get_file(self, path):
        return self.files[path]


def test_the_applicant_s_answer_takes_its_place_in_the_timeline():
    application = {"submitted_at": "2026-03-01T09:00:00+00:00"}
    audit = [{"at": "2026-03-01T12:00:00+00:00", "action": "info_requested", "who": "a@b.org"},
             {"at": "2026-03-02T11:00:00+00:00", "action": "resumed", "who": "a@b.org"}]
    mails = [{"sent_at": None, "created_at": "2026-03-01T12:00:05", "template": "info"}]
    steps = desk.timeline(application, audit, mails, ANSWERS["items"])
    assert [s["kind"] for s in steps] == ["received", "audit", "mail", "answer", "audit"]
    assert steps[3]["message"] == "Voici la délibération."
    assert steps[3]["attachments"][0]["filename"] == "délibération.pdf"


def test_an_attachment_is_served_only_for_its_own_application():
    intake = FakeIntake()
    assert desk.attachment(intake, "HRC-2026-00001", "a1")[0] == b"%PDF-1.4"
    with pytest.raises(StaffApiError) as refused:
        desk.attachment(intake, "HRC-2026-00002", "a1")
    assert refused.value.status == 404
