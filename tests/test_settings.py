from __future__ import annotations

from pathlib import Path

import pytest

from motion_studio.errors import MissingKeyError, StudioError
from motion_studio.settings import Settings, get_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in (
        "FAL_KEY",
        "MOTION_STUDIO_DATA_DIR",
        "MOTION_STUDIO_DEFAULT_TIER",
        "MOTION_STUDIO_SERVER_PORT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_dotenv_is_read_and_environment_wins(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean_env / ".env").write_text(
        "FAL_KEY=from-dotenv\nMOTION_STUDIO_DEFAULT_TIER=standard\nMOTION_STUDIO_SERVER_PORT=\n"
    )
    settings = Settings()
    assert settings.fal_key.get_secret_value() == "from-dotenv"
    assert settings.default_tier == "standard" and settings.server_port is None
    assert "from-dotenv" not in repr(settings) and "from-dotenv" not in str(settings.model_dump())
    monkeypatch.setenv("FAL_KEY", "from-env")
    assert Settings().fal_key.get_secret_value() == "from-env"


def test_defaults(clean_env: Path) -> None:
    settings = Settings()
    assert settings.fal_key is None and settings.data_dir == Path("data") and settings.default_tier == "pro"
    assert settings.db_path == Path("data/history.sqlite3")


def test_missing_key_and_session_key(clean_env: Path) -> None:
    settings = Settings()
    with pytest.raises(MissingKeyError):
        settings.require_key(None)
    with pytest.raises(MissingKeyError):
        settings.require_key("   ")
    assert settings.require_key(" typed ").get_secret_value() == "typed"
    with_server = Settings(FAL_KEY="server")
    assert with_server.require_key(None).get_secret_value() == "server"
    assert with_server.require_key("mine").get_secret_value() == "mine"  # a visitor pays for themselves


def test_private_galleries_default_to_on_for_a_space(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert Settings().galleries_are_private is False
    monkeypatch.setenv("SPACE_ID", "someone/motion-studio")
    assert Settings().galleries_are_private is True
    monkeypatch.setenv("MOTION_STUDIO_PRIVATE_GALLERIES", "false")
    assert Settings().galleries_are_private is False


def test_invalid_setting_is_one_sentence(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTION_STUDIO_DEFAULT_TIER", "ultra")
    with pytest.raises(
        StudioError,
        match="MOTION_STUDIO_DEFAULT_TIER: Input should be 'pro', 'standard', 'v3-pro', 'v3-standard', "
        "'wan-move', 'wan-replace' or 'dreamactor'",
    ):
        get_settings()


def test_env_example_lists_every_setting() -> None:
    example = (Path(__file__).resolve().parents[1] / ".env.example").read_text()
    for field in Settings.model_fields.values():
        assert f"{field.alias}=" in example
