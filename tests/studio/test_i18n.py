"""The editors' interface is English by default and translated by the Armenian and Russian catalogs; the
compiled catalogs shipped with the app say what their sources say."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.utils import translation

from herald.studio import screens, texts

LOCALE = Path(__file__).resolve().parents[2] / "herald" / "studio" / "locale"


def _po_entries(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (enough of the format for the catalogs we write)."""
    entries: dict[str, str] = {}
    text = path.read_text(encoding="utf-8")
    for block in re.findall(r'msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', text):
        msgid, msgstr = ("".join(eval(line) for line in part.strip().splitlines()) for part in block)
        if msgid:
            entries[msgid] = msgstr
    return entries


@pytest.mark.parametrize("language", ["hy", "ru"])
def test_catalogs_are_complete_compiled_and_keep_placeholders(language: str) -> None:
    po = _po_entries(LOCALE / language / "LC_MESSAGES" / "django.po")
    with (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb") as handle:
        mo = gettext.GNUTranslations(handle)
    assert len(po) > 100
    for msgid, msgstr in po.items():
        assert msgstr, f"{language}: {msgid!r} is not translated"
        assert mo.gettext(msgid) == msgstr, f"{language}: the .mo is older than the .po ({msgid!r})"
        assert sorted(re.findall(r"%\(\w+\)[sd+]*", msgid)) == sorted(re.findall(r"%\(\w+\)[sd+]*", msgstr))
        assert re.findall(r"</?\w+>", msgid) == re.findall(r"</?\w+>", msgstr), (
            f"{language}: tags of {msgid!r}"
        )


def test_every_message_of_the_interface_has_a_translation() -> None:
    po = _po_entries(LOCALE / "ru" / "LC_MESSAGES" / "django.po")
    labels = [texts.new_post(), texts.drafts(), texts.back(), texts.main_menu(), texts.help_text()]
    assert all(label in po for label in labels)


def test_english_is_the_default() -> None:
    assert texts.new_post() == "📝 New Post"
    assert (texts_in("ru"), texts_in("hy")) == ("📝 Новый пост", "📝 Նոր գրառում")


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "Main menu"), ("hy", "Գլխավոր մենյու"), ("ru", "Главное меню")]
)
def test_the_main_menu_speaks_the_studio_language(language: str, expected: str) -> None:
    with translation.override(language):
        text, markup = screens.main_menu(is_admin=True)
    assert expected in text
    assert markup.inline_keyboard[0][0].text == texts_in(language)


def texts_in(language: str) -> str:
    with translation.override(language):
        return texts.new_post()
