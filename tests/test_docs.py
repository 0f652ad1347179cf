"""The README stays a front door and the manual stays whole: generated pages match the code, links land."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from motion_studio.catalog import FAMILIES, TIERS
from motion_studio.settings import Settings
from scripts import model_docs, option_docs, settings_docs

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
README_LIMIT = 15_000
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.MULTILINE):
        slug, n = _slug(heading), 1
        while slug in anchors:
            slug, n = f"{_slug(heading)}-{n}", n + 1
        anchors.add(slug)
    return anchors


def _links(page: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", sorted(settings_docs.outputs()), ids=lambda p: p.name)
def test_generated_settings_files_match_the_model(path: Path) -> None:
    expected = settings_docs.outputs()[path]
    actual = path.read_text(encoding="utf-8") if path.exists() else ""
    assert actual == expected, (
        f"{path.relative_to(ROOT)} no longer matches the Settings model in motion_studio/settings.py. "
        f"Regenerate it from the repository root with `{settings_docs.COMMAND}` and commit the result."
    )


CATALOGUE_TABLES = [
    (generator, path) for generator in (option_docs, model_docs) for path in generator.outputs()
]


@pytest.mark.parametrize(
    ("generator", "path"), CATALOGUE_TABLES, ids=[f"{g.__name__}:{p.name}" for g, p in CATALOGUE_TABLES]
)
def test_generated_tables_match_the_catalogue(generator: Any, path: Path) -> None:
    """The options' table (docs/api.md) and the models' tables (docs/usage.md's "Which model?")."""
    expected = generator.outputs()[path]
    assert path.read_text(encoding="utf-8") == expected, (
        f"{path.name} is out of date with the catalogue. "
        f"Regenerate it from the repository root with `{generator.COMMAND}` and commit the result."
    )


def test_which_model_has_a_row_for_every_model_under_its_family() -> None:
    tables = model_docs.tables()
    for family in FAMILIES.values():
        own = tables.split(f"### {family.short}\n", 1)[1].split("\n### ", 1)[0]
        assert family.help in own
        for model in TIERS.values():
            assert (f"| `{model.name}`: " in own) == (model.family == family.name), (family.name, model.name)
    assert "(done by the studio)" in tables and "a setting, `MOTION_STUDIO_DREAMACTOR_PRICE`" in tables


def test_env_example_sets_every_default_and_no_secret() -> None:
    """Copying .env.example to .env changes nothing, and no secret has a value in it."""
    assert Settings(_env_file=settings_docs.ENV_EXAMPLE) == Settings(_env_file=None)  # type: ignore[call-arg]
    for field in Settings.model_fields.values():
        if settings_docs.is_secret(field):
            assert re.search(rf"^{field.alias}=$", settings_docs.ENV_EXAMPLE.read_text(), re.MULTILINE)


def test_every_setting_is_on_the_settings_page() -> None:
    page = settings_docs.PAGE.read_text(encoding="utf-8")
    for field in Settings.model_fields.values():
        assert f"| `{field.alias}` |" in page


def test_readme_is_a_front_door() -> None:
    text = README.read_text(encoding="utf-8")
    size = len(text.encode("utf-8"))
    assert size <= README_LIMIT, (
        f"README.md is {size} bytes; keep it under {README_LIMIT}, move detail to docs/"
    )
    assert text.startswith("---\n") and "\nsdk: gradio\n" in text.split("\n---\n", 1)[0]
    first_screen = "\n".join(text.split("\n---\n", 1)[1].splitlines()[:45])
    for command in (
        "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt",
        ".venv/bin/python app.py",
        ".venv/bin/python -m pytest",
    ):
        assert command in first_screen, f"README.md's first screenful should show `{command}`"
    assert "docs/index.md" in text


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_land(page: Path) -> None:
    broken = []
    for target in _links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        destination = (page.parent / file_part).resolve() if file_part else page
        if not destination.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and destination.suffix == ".md" and anchor not in _anchors(destination):
            broken.append(f"{target} (no heading #{anchor} in {destination.name})")
    assert not broken, f"{page.relative_to(ROOT)} has broken links: {broken}"


def test_the_manual_lists_every_page() -> None:
    index = {target.partition("#")[0] for target in _links(DOCS / "index.md")}
    missing = [p.name for p in DOCS.glob("*.md") if p.name != "index.md" and p.name not in index]
    assert not missing, f"docs/index.md should link every page of the manual; missing: {missing}"


@pytest.mark.parametrize("page", [*PAGES, ROOT / ".env.example"], ids=lambda p: p.name)
def test_product_pages_stand_alone(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert "../shared" not in text
    assert not re.search(r"\bissues?\s*#?\d+|(?<![\w&])#\d+\b", text, re.IGNORECASE)
