"""Questions on which the app once showed a false claim with a citation (``shared/data/trust``),
asked again with the real stack: the bundled SmolLM2, the real embedder, FAISS, spaCy."""

from __future__ import annotations

import re

import pytest

from gptbuilder.backends.vector_index import FaissIndex
from gptbuilder.config import Settings
from gptbuilder.personas.definition import make_draft
from gptbuilder.retrieval.claims import check
from gptbuilder.services import Services
from gptbuilder.ui.render import render_answer

pytestmark = pytest.mark.slow

FILES = ["failure-after-repair.pdf", "norwich-city.txt", "handbook-872p.docx"]


@pytest.fixture(scope="module")
def trust(tmp_path_factory, shared_data, real_embedder, real_llm):
    data = shared_data / "trust"
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("trust"))  # type: ignore[call-arg]
    services = Services.build(
        settings, embedder=real_embedder, llm=lambda: real_llm, new_index=FaissIndex
    )
    a = services.repo.create_assistant(make_draft("Trust", temperature=0))
    for name in FILES:
        services.library.add_file(a.id, data / name, name)
    yield services, a
    services.close()


def ask(trust, question: str):
    services, a = trust
    *_, last = services.answers.stream(a, question, [])
    answer = last.answer
    assert answer is not None
    shown = render_answer(answer).split("**Sources**")[0]
    # Whatever the model's sentences say, each is stated by the span it cites.
    for claim in answer.claims:
        cited = next(c for c in answer.citations if c.number == claim.number)
        span = cited.hit.text[claim.span[0] : claim.span[1]]
        assert check(claim.text, span).ok, (claim.text, span)
    return answer, shown


def test_lcis_is_not_called_cancer(trust):
    answer, shown = ask(trust, "What is lobular carcinoma in situ?")
    assert not answer.abstained
    assert "lobular carcinoma in situ" in shown and "This is not cancer" in shown, shown
    for claim in answer.claims:
        said = f" {claim.text.lower()} "
        about_lcis = any(w in said for w in ("lobular", "lcis", "in situ", " it ", " this "))
        assert not ("cancer" in said and " not " not in said and about_lcis), claim.text
        assert not said.lstrip().startswith("a:"), "a Q/A label is not part of a claim"


def test_iwan_roberts_is_not_said_to_be_born_in_norwich(trust):
    answer, shown = ask(trust, "Where was Iwan Roberts born?")
    assert not re.search(r"born in Norwich|Norwich, England", shown), shown
    assert "Bangor, Wales" in shown, shown


def test_standing_trustees_are_not_put_under_title_28(trust):
    answer, shown = ask(trust, "Who appoints and supervises chapter 13 standing trustees?")
    assert "title 28" not in shown and "United States Trustee" in shown, shown


def test_section_156_is_answered_or_its_excluded_passage_named(trust):
    answer, shown = ask(trust, "What does Section 156 of title 18 make a misdemeanor?")
    # Either the passage is used, or (while it is excluded by a flag) the answer names it.
    assert "Section 156" in shown, shown
