"""The lean prompt: the model reads the best sentences of the sources with their neighbours,
while citations, the claim check and the quotes shown work on the whole passages; the system
message up to the per-request canary is marked reusable (the prefix llama.cpp keeps)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from conftest import make_settings
from gptbuilder.backends.embedder import HashingEmbedder
from gptbuilder.backends.llm import REUSABLE, ExtractiveFakeLLM, physical_cores
from gptbuilder.backends.models import OpenAICompatibleLLM
from gptbuilder.backends.vector_index import NumpyIndex
from gptbuilder.config import Settings
from gptbuilder.language import sentence_spans
from gptbuilder.retrieval.prompt import LEAN_GAP, PromptGuard, build_messages, lean_excerpts
from gptbuilder.services import Services
from gptbuilder.types import Assistant, AssistantDraft, Hit

NOW = datetime.now(UTC)
ASSISTANT = Assistant(1, "A", "", "Be brief.", (), 0.0, NOW, NOW)

SENTENCES = [f"Sentence number {w} talks about topic {w}." for w in "abcdefghij"]
PASSAGE = " ".join(SENTENCES)


def hit(text: str, n: int = 1) -> Hit:
    return Hit(n, 1, "f.txt", 1, 0, len(text), text, 1.0)


def ranked_by(hits: list[Hit], order: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(hit index, start, end) of every sentence, the given (hit, sentence number) first."""
    spans = [sentence_spans(h.text) for h in hits]
    first = [(i, *spans[i][k]) for i, k in order]
    rest = [(i, s, e) for i, sp in enumerate(spans) for s, e in sp if (i, s, e) not in first]
    return first + rest


def words(text: str) -> int:
    return len(text.split())


def test_best_sentences_come_with_their_neighbours_in_passage_order():
    hits = [hit(PASSAGE)]
    texts = lean_excerpts(hits, ranked_by(hits, [(0, 5)]), words, budget=1000, best=1)
    assert texts == [" ".join(SENTENCES[4:7])]


def test_sentences_apart_are_joined_by_an_ellipsis_and_the_budget_holds():
    hits = [hit(PASSAGE)]
    texts = lean_excerpts(hits, ranked_by(hits, [(0, 1), (0, 8)]), words, budget=24, best=2)
    # Each sentence costs 8 (7 words + 1): the two best and one neighbour of the first fit.
    assert texts == [SENTENCES[0] + " " + SENTENCES[1] + LEAN_GAP + SENTENCES[8]]


def test_the_best_sentence_goes_in_even_over_the_budget_and_unused_hits_get_nothing():
    hits = [hit("Short one. Another short one."), hit(PASSAGE, 2)]
    texts = lean_excerpts(hits, ranked_by(hits, [(1, 3), (0, 0)]), words, budget=3, best=2)
    assert texts == ["", SENTENCES[3]]


def test_excerpts_in_the_prompt_whole_passages_returned():
    hits = [hit("Nothing useful here.", 1), hit(PASSAGE, 2)]
    excerpts = ["", SENTENCES[3]]
    msgs, fitted = build_messages(
        ASSISTANT, "Q?", [], hits, ExtractiveFakeLLM(), 64, PromptGuard.new(), excerpts
    )
    user = msgs[-1]["content"]
    assert f"[1] {SENTENCES[3]}" in user
    assert "Nothing useful" not in user and SENTENCES[4] not in user and "[2]" not in user
    assert fitted == [hits[1]] and fitted[0].text == PASSAGE


def test_the_reusable_prefix_holds_no_secret_and_is_the_same_for_every_request():
    prefixes = set()
    for _ in range(3):
        guard = PromptGuard.new()
        msgs, _ = build_messages(
            ASSISTANT, "Q?", [], [hit(PASSAGE)], ExtractiveFakeLLM(), 64, guard
        )
        system = msgs[0]
        stable = system[REUSABLE]
        assert system["content"].startswith(stable) and len(stable) < len(system["content"])
        assert guard.canary not in stable and guard.tag not in stable
        assert guard.canary in system["content"][len(stable) :]
        prefixes.add(stable)
    assert len(prefixes) == 1
    # Without sources the system message differs, and so does what is reusable.
    msgs, _ = build_messages(ASSISTANT, "Q?", [], [], ExtractiveFakeLLM(), 64)
    assert msgs[0]["content"].startswith(msgs[0][REUSABLE]) and msgs[0][REUSABLE] not in prefixes


def test_a_server_is_sent_only_role_and_content(monkeypatch):
    import httpx

    sent = {}

    class Done(Exception):
        pass

    def stream(method, url, json, headers, timeout):
        sent.update(json)
        raise Done

    monkeypatch.setattr(httpx, "stream", stream)
    llm = OpenAICompatibleLLM("http://127.0.0.1:9/v1", "m")
    msgs = [
        {"role": "system", "content": "x (S)", REUSABLE: "x "},
        {"role": "user", "content": "q"},
    ]
    try:
        list(llm.stream_chat(msgs, 0.0, 8))
    except Done:
        pass
    assert sent["messages"] == [
        {"role": "system", "content": "x (S)"},
        {"role": "user", "content": "q"},
    ]


def test_settings_switch_the_lean_prompt_and_prefix_cache_off(monkeypatch, tmp_path):
    on = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert on.lean_tokens == on.lean_prompt_tokens > 0 and on.llama_options["prefix_cache"]
    monkeypatch.setenv("GPTB_LEAN_PROMPT", "false")
    monkeypatch.setenv("GPTB_LLM_PREFIX_CACHE", "false")
    off = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert off.lean_tokens == 0 and not off.llama_options["prefix_cache"]
    # A core's hyper-threads count once: never more cores than CPUs this process may use.
    cores = physical_cores()
    assert cores >= 1 and cores <= len(os.sched_getaffinity(0))


def test_answers_cite_and_check_the_whole_passage(tmp_path):
    """The fake model repeats the first sentence of source [1] (the excerpt's); the answer
    cites the whole passage and quotes inside it."""
    fake = ExtractiveFakeLLM()
    settings = make_settings(tmp_path / "data")
    services = Services.build(
        settings, embedder=HashingEmbedder(), llm=lambda: fake, new_index=NumpyIndex
    )
    try:
        services.answers.lean_tokens = 40
        services.answers._abstain = False
        a = services.repo.create_assistant(AssistantDraft(name="Lean", temperature=0))
        doc = tmp_path / "facts.txt"
        filler = " ".join(f"Filler sentence {i} says nothing much at all." for i in range(12))
        doc.write_text(filler + " The lighthouse was built in 1874 by the harbour board. " + filler)
        services.library.add_file(a.id, doc, doc.name)
        assistant = services.repo.get_assistant(a.id)
        final = list(services.answers.stream(assistant, "When was the lighthouse built?", []))[-1]
        answer = final.answer
        assert answer is not None and answer.citations
        prompt = fake.calls[-1][-1]["content"]
        block = prompt[prompt.index("[1] ") : prompt.index("<<END-")]
        assert "The lighthouse was built in 1874" in block
        lead = answer.citations[0]
        # The citation is the whole passage, longer than what the model read of it; its quote
        # (the documents' best sentence) is inside that passage.
        assert len(lead.hit.text) > 1.5 * len(block)
        assert lead.quote is not None
        assert "The lighthouse was built in 1874" in lead.hit.text[lead.quote[0] : lead.quote[1]]
    finally:
        services.close()
