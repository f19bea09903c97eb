"""The zh-hans catalogue is complete and safe, and the pages switch language.

The committed .po file is parsed here by a small parser (no polib): every entry must be translated, none fuzzy,
and each translation must keep exactly the placeholders of its English source, so that a `%` operation or
`{% blocktrans %}` never raises or drops a value at run time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

PO_PATH = Path(settings.BASE_DIR) / "linli" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
# %(name)s, %s, %d, %5.2f ... ; "%%" is a literal percent sign and no placeholder
_PERCENT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])"
)
# {name}, {0}, {} (str.format); "{{" and "}}" are literal braces
_BRACE = re.compile(r"(?<!\{)\{(?P<name>[A-Za-z_]\w*|\d*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is not None:
            return [self.msgstr_plural[k] for k in sorted(self.msgstr_plural)]
        return [self.msgstr]

    @property
    def label(self) -> str:
        return f"line {self.line}: {self.msgid[:70]!r}"


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"not a quoted PO string: {text!r}")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), text[1:-1])


def parse_po(text: str) -> list[Entry]:
    """Entries of a PO file, the header (msgid "") included; obsolete (#~) entries are parsed and marked."""
    entries: list[Entry] = []
    cur: Entry | None = None
    flags: set[str] = set()
    key: str | None = None
    plural_index: int | None = None

    def store(value: str) -> None:
        assert cur is not None and key is not None
        if key == "msgstr" and plural_index is not None:
            cur.msgstr_plural[plural_index] = cur.msgstr_plural.get(plural_index, "") + value
        else:
            setattr(cur, key, (getattr(cur, key) or "") + value)

    for number, raw in enumerate(text.splitlines(), start=1):
        obsolete = raw.startswith("#~")
        line = raw[2:].strip() if obsolete else raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if line.startswith("#,"):
                flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        m = _KEYWORD.match(line)
        if m:
            word, index, quoted = m.group(1), m.group(2), m.group(3)
            # an entry starts with msgctxt, or with msgid unless that follows its msgctxt
            if word == "msgctxt" or (word == "msgid" and key != "msgctxt"):
                cur = Entry(line=number, flags=flags, obsolete=obsolete)
                entries.append(cur)
                flags = set()
            if cur is None:
                raise ValueError(f"line {number}: {word} before msgid")
            key, plural_index = ("msgstr", int(index)) if index is not None else (word, None)
            if key in ("msgid_plural", "msgctxt"):
                setattr(cur, key, "")
            store(_unquote(quoted))
        elif line.startswith('"'):
            if cur is None or key is None:
                raise ValueError(f"line {number}: string continuation outside an entry")
            store(_unquote(line))
        else:
            raise ValueError(f"line {number}: cannot parse {raw!r}")
    return entries


def placeholders(text: str, python_format: bool = True) -> list[str]:
    """The placeholders of a message, sorted (a multiset: `%s %s` differs from `%s`)."""
    found: list[str] = []
    if python_format:
        for m in _PERCENT.finditer(text):
            name, conv = m.group("name"), m.group("conv")
            if conv != "%":
                found.append(f"%({name}){conv}" if name is not None else f"%{conv}")
    found += [f"{{{m.group('name')}}}" for m in _BRACE.finditer(text)]
    return sorted(found)


@pytest.fixture(scope="module")
def catalogue() -> list[Entry]:
    return parse_po(PO_PATH.read_text(encoding="utf-8"))


def _messages(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if e.msgid and not e.obsolete]


# --- the parser itself -----------------------------------------------------------------------------------------------


def test_parser_reads_multiline_plural_flags_and_escapes() -> None:
    text = r"""
msgid ""
msgstr ""
"Language: zh_Hans\n"

#: a.py:1
#, python-format
msgid ""
"Nothing was imported: %(count)d row "
"has errors."
msgid_plural "%(count)d rows"
msgstr[0] "有 %(count)d 行"

#, fuzzy
msgctxt "verb"
msgid "Say \"hi\""
msgstr ""

#~ msgid "old"
#~ msgstr "旧"
"""
    header, plural, fuzzy, old = parse_po(text)
    assert header.msgid == "" and header.msgstr == "Language: zh_Hans\n"
    assert plural.msgid == "Nothing was imported: %(count)d row has errors."
    assert plural.msgid_plural == "%(count)d rows" and plural.translations == ["有 %(count)d 行"]
    assert plural.flags == {"python-format"}
    assert fuzzy.flags == {"fuzzy"} and fuzzy.msgctxt == "verb" and fuzzy.msgid == 'Say "hi"' and fuzzy.msgstr == ""
    assert old.obsolete and old.msgstr == "旧"


def test_placeholders() -> None:
    assert placeholders("Page %(n)s of %(total)s, 100%%") == ["%(n)s", "%(total)s"]
    assert placeholders("%s and %d") == ["%d", "%s"]
    assert placeholders("{name} has {{braces}}") == ["{name}"]
    assert placeholders("第 %(n)s 页") != placeholders("Page %(m)s")


# --- the committed catalogue -----------------------------------------------------------------------------------------


def test_header(catalogue: list[Entry]) -> None:
    headers = [e for e in catalogue if e.msgid == "" and not e.obsolete]
    assert len(headers) == 1, "the catalogue must have exactly one header"
    header = headers[0]
    assert "fuzzy" not in header.flags, "the header is marked fuzzy"
    fields = dict(line.split(":", 1) for line in header.msgstr.splitlines() if ":" in line)
    assert fields.get("Language", "").strip() == "zh_Hans"
    assert "charset=UTF-8" in fields.get("Content-Type", "")
    assert fields.get("Plural-Forms", "").replace(" ", "") == "nplurals=1;plural=0;"


def test_catalogue_is_not_empty(catalogue: list[Entry]) -> None:
    assert len(_messages(catalogue)) > 100


def test_every_entry_is_translated(catalogue: list[Entry]) -> None:
    untranslated = [e.label for e in _messages(catalogue) if not all(t.strip() for t in e.translations)]
    assert not untranslated, "untranslated entries:\n" + "\n".join(untranslated)


def test_no_fuzzy_entries(catalogue: list[Entry]) -> None:
    fuzzy = [e.label for e in _messages(catalogue) if "fuzzy" in e.flags]
    assert not fuzzy, "fuzzy entries (Django ignores them):\n" + "\n".join(fuzzy)


def test_plural_entries_have_one_form(catalogue: list[Entry]) -> None:
    # zh has nplurals=1: exactly msgstr[0]
    wrong = [e.label for e in _messages(catalogue) if e.msgid_plural is not None and sorted(e.msgstr_plural) != [0]]
    assert not wrong, "plural entries must have exactly msgstr[0]:\n" + "\n".join(wrong)


def test_placeholders_are_kept(catalogue: list[Entry]) -> None:
    wrong: list[str] = []
    for e in _messages(catalogue):
        python_format = "python-format" in e.flags
        source = placeholders(e.msgid, python_format)
        plural_source = placeholders(e.msgid_plural, python_format) if e.msgid_plural is not None else source
        for t in e.translations:
            got = placeholders(t, python_format)
            # a single zh form serves both English forms; it may use the placeholders of either
            if got != source and got != plural_source:
                wrong.append(f"{e.label}: {source} != {got} in {t!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_compiled_catalogue_is_current() -> None:
    assert MO_PATH.exists() and MO_PATH.stat().st_mtime >= PO_PATH.stat().st_mtime, (
        "linli/locale/zh_Hans/LC_MESSAGES/django.mo is missing or older than django.po: run `make setup` "
        "(manage.py compilemessages)"
    )


# --- the pages -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_is_chinese_by_default() -> None:
    r = Client().get(reverse("login"))
    assert r.status_code == 200
    body = r.content.decode()
    assert "登录" in body and "手机号" in body
    assert "Sign in" not in body


@pytest.mark.django_db
def test_login_page_is_english_with_the_language_cookie() -> None:
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    r = c.get(reverse("login"))
    assert r.status_code == 200
    body = r.content.decode()
    assert "Sign in" in body and "Mobile number" in body
    assert "登录" not in body
