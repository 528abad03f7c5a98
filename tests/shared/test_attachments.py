"""A file's size reads the same on the applicant's page, in the console and in the staff mail."""
import pytest

from shared.attachments import size_label


def spaced(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.mark.parametrize(("size", "language", "said"), [
    (627, "en", "1 kB"), (627, "fr", "1 ko"), (300_000, "es", "293 kB"),
    (5 * 1024 * 1024, "en", "5 MB"), (5 * 1024 * 1024, "fr", "5 Mo"),
    (1_600_000, "fr", "1,5 Mo"),
])
def test_sizes_as_the_form_s_limit_counts_them_in_the_reader_s_units(size, language, said):
    assert spaced(size_label(size, language)) == said
