import pytest


@pytest.mark.browser
def test_the_browser_fixture_drives_debian_chromium(browser):
    page = browser.new_page()
    page.set_content("<label for=n>Name</label><input id=n>")
    page.get_by_label("Name").fill("Grenoble")
    assert page.input_value("#n") == "Grenoble"
    page.close()
