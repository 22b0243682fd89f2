"""Configuration: Code2Video's api_config.json, environment variables, knobs, names, secrets."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from c2v.errors import ConfigError
from c2v.llm.prices import Price, match_model
from c2v.llm.registry import canonical_provider
from c2v.llm.settings import (
    ProviderKind,
    ProviderSettings,
    configured_names,
    load_api_config,
    parse_knobs,
    require_usable,
    resolve_provider,
)

# Code2Video's api_config.sample.json, with two entries filled in as a user would.
CODE2VIDEO = {
    "gemini": {"api_key": "AIza-file-gemini-key-000", "model": "gemini-2.5-flash"},
    "gpt41": {
        "base_url": "https://res.openai.azure.com",
        "api_version": "2024-03-01-preview",
        "api_key": "YOUR_API_KEY",
        "model": "gpt-4.1-2025-04-14",
    },
    "gpt5": {
        "base_url": "YOUR_AZURE_OPENAI_ENDPOINT",
        "api_version": "YOUR_API_VERSION",
        "api_key": "YOUR_API_KEY",
        "model": "gpt-5-chat-2025-08-07",
    },
    "gpt4o": {
        "base_url": "YOUR_AZURE_OPENAI_ENDPOINT",
        "api_version": "YOUR_API_VERSION",
        "api_key": "YOUR_API_KEY",
        "model": "gpt-4o-2024-11-20",
    },
    "gpt51": {
        "base_url": "https://res.openai.azure.com/openai/v1/",
        "api_key": "azure-v1-key",
        "model": "gpt-5-mini",
    },
    "claude": {
        "base_url": "https://res.services.ai.azure.com/anthropic",
        "api_key": "foundry-key-123",
        "model": "claude-opus-4-5",
    },
    "iconfinder": {"api_key": "YOUR_ICONFINDER_KEY"},
}


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "api_config.json"
    path.write_text(json.dumps(CODE2VIDEO))
    return path


def key(settings: ProviderSettings) -> str | None:
    return settings.api_key.get_secret_value() if settings.api_key else None


def test_code2video_file_is_read_unchanged(config):
    gemini = resolve_provider("gemini", config, env={})
    assert (gemini.kind, gemini.model, key(gemini)) == (
        ProviderKind.gemini,
        "gemini-2.5-flash",
        "AIza-file-gemini-key-000",
    )
    assert gemini.key_source == "api_config.json"
    azure = resolve_provider("gpt41", config, env={})
    assert azure.kind is ProviderKind.azure and azure.api_version == "2024-03-01-preview"
    assert azure.base_url == "https://res.openai.azure.com" and azure.model == "gpt-4.1-2025-04-14"
    assert azure.api_key is None, "Code2Video's YOUR_API_KEY placeholder counts as unset"
    v1 = resolve_provider("gpt51", config, env={})
    assert (
        v1.kind is ProviderKind.openai and v1.base_url.endswith("/openai/v1/") and key(v1) == "azure-v1-key"
    )
    claude = resolve_provider("claude", config, env={})
    assert claude.kind is ProviderKind.anthropic and claude.is_foundry and claude.max_output_tokens == 16384
    other = resolve_provider("gpt5", config, env={})  # an entry with a name c2v has no preset for
    assert other.kind is ProviderKind.openai and other.model == "gpt-5-chat-2025-08-07"
    assert "iconfinder" not in configured_names(config, env={})


def test_environment_wins_over_the_file(config):
    env = {"GEMINI_API_KEY": "AIza-env-key", "GEMINI_MODEL": "gemini-2.5-pro"}
    gemini = resolve_provider("gemini", config, env=env)
    assert key(gemini) == "AIza-env-key" and gemini.key_source == "env GEMINI_API_KEY"
    assert gemini.model == "gemini-2.5-pro"
    assert key(resolve_provider("gemini", config, env={"GOOGLE_API_KEY": "AIza-google"})) == "AIza-google"
    both = {"GOOGLE_API_KEY": "AIza-google", "GEMINI_API_KEY": "AIza-gemini"}
    assert key(resolve_provider("gemini", config, env=both)) == "AIza-gemini"
    azure_env = {"AZURE_OPENAI_API_KEY": "az-env", "AZURE_OPENAI_ENDPOINT": "https://other.openai.azure.com"}
    azure = resolve_provider("gpt41", config, env=azure_env)
    assert key(azure) == "az-env" and azure.base_url == "https://other.openai.azure.com"
    claude = resolve_provider("claude", config, env={"CLAUDE_API_KEY": "c2v-style-entry-var"})
    assert key(claude) == "c2v-style-entry-var"
    assert key(resolve_provider("claude", config, env={"ANTHROPIC_FOUNDRY_API_KEY": "fk"})) == "fk"


def test_a_vendor_key_only_goes_to_its_own_vendor(config, tmp_path):
    # The Foundry endpoint is Azure's, not Anthropic's: ANTHROPIC_API_KEY is not sent there.
    assert key(resolve_provider("claude", config, env={"ANTHROPIC_API_KEY": "sk-ant"})) == "foundry-key-123"
    # Azure's v1 endpoint takes the Azure key, never OPENAI_API_KEY.
    assert key(resolve_provider("gpt51", config, env={"OPENAI_API_KEY": "sk-openai"})) == "azure-v1-key"
    assert key(resolve_provider("gpt51", config, env={"AZURE_OPENAI_API_KEY": "az"})) == "az"
    # An OpenAI-compatible server is someone else's: OPENAI_API_KEY is not sent to it.
    compat = tmp_path / "compat.json"
    compat.write_text(json.dumps({"openai-compatible": {"base_url": "http://127.0.0.1:9/v1", "model": "m"}}))
    local = resolve_provider("openai-compatible", compat, env={"OPENAI_API_KEY": "sk-openai"})
    assert local.api_key is None
    require_usable(local)  # a local server needs no key
    assert key(resolve_provider("openai-compatible", compat, env={"OPENAI_COMPATIBLE_API_KEY": "k"})) == "k"


def test_environment_alone_is_enough():
    openai = resolve_provider("gpt41", None, env={"OPENAI_API_KEY": "sk-x"})
    assert (openai.kind, openai.model, openai.base_url, key(openai)) == (
        ProviderKind.openai,
        "gpt-4.1",
        None,
        "sk-x",
    )
    azure_env = {
        "AZURE_OPENAI_API_KEY": "az",
        "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com",
        "AZURE_OPENAI_DEPLOYMENT": "my-4o",
    }
    azure = resolve_provider("gpt4o", None, env=azure_env)
    assert azure.kind is ProviderKind.azure and azure.model == "my-4o" and azure.api_version
    claude = resolve_provider("claude", None, env={"ANTHROPIC_API_KEY": "sk-ant"})
    assert claude.kind is ProviderKind.anthropic and not claude.is_foundry and key(claude) == "sk-ant"
    compat_env = {"OPENAI_BASE_URL": "http://localhost:11434/v1", "OPENAI_COMPATIBLE_MODEL": "llama3"}
    compat = resolve_provider("openai-compatible", None, env=compat_env)
    assert compat.base_url == "http://localhost:11434/v1" and compat.model == "llama3"


def test_default_config_is_found_in_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "api_config.json").write_text(json.dumps({"gemini": {"api_key": "AIza-cwd"}}))
    monkeypatch.chdir(tmp_path)
    assert key(resolve_provider("gemini", env={})) == "AIza-cwd"
    other = tmp_path / "elsewhere.json"
    other.write_text(json.dumps({"gemini": {"api_key": "AIza-other"}}))
    assert key(resolve_provider("gemini", env={"C2V_API_CONFIG": str(other)})) == "AIza-other"


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        ("Gemini", "gemini"),
        ("gpt-41", "gpt41"),
        ("GPT4o", "gpt4o"),
        ("gpt-5.1", "gpt51"),
        ("openai_compatible", "openai-compatible"),
        ("OFFLINE", "offline"),
        ("anthropic", "claude"),
    ],
)
def test_code2video_spellings(spelling, name):
    assert canonical_provider(spelling) == name


def test_unknown_and_undeclared_providers(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown provider 'nosuch'; available: gemini, gpt51"):
        resolve_provider("nosuch", None, env={})
    with pytest.raises(ConfigError, match="unknown provider"):
        resolve_provider("iconfinder", None, env={})
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"mystery": {"api_key": "k", "model": "m"}}))
    with pytest.raises(ConfigError, match='add "provider"'):
        resolve_provider("mystery", path, env={})
    path.write_text(json.dumps({"mystery": {"api_key": "k", "model": "m", "provider": "anthropic"}}))
    assert resolve_provider("mystery", path, env={}).kind is ProviderKind.anthropic


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "not valid JSON at line 1"),
        ("[1, 2]", "JSON object of named entries"),
        (
            '{"gemini": {"api_key": "k", "modle": "x"}}',
            "entry 'gemini': modle: Extra inputs are not permitted",
        ),
        ('{"gemini": {"api_key": 12345678901}}', "entry 'gemini': api_key"),
        ('{"gemini": {"rpm": -1}}', "entry 'gemini': rpm"),
        ('{"prices": {"m": {"input": "free"}}}', '"prices"'),
    ],
)
def test_bad_config_files_are_one_line_config_errors(tmp_path, content, needle):
    path = tmp_path / "api_config.json"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        resolve_provider("gemini", path, env={})
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert "12345678901" not in str(info.value), "the value of a bad key is never echoed"
    assert info.value.exit_code == 2


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_provider("gemini", tmp_path / "nope.json", env={})


def test_keys_are_secret_everywhere_but_the_client(config):
    settings = resolve_provider("gemini", config, env={})
    secret = "AIza-file-gemini-key-000"
    for text in (
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        json.dumps(settings.model_dump(mode="json")),
    ):
        assert secret not in text
    assert key(pickle.loads(pickle.dumps(settings))) == secret  # travels to the Ray actors intact


def test_require_usable_says_what_to_set(config):
    with pytest.raises(
        ConfigError, match=r"provider 'gpt41' has no API key: set AZURE_OPENAI_API_KEY \(or GPT41_API_KEY\)"
    ):
        require_usable(resolve_provider("gpt41", config, env={}))
    with pytest.raises(ConfigError, match="set GEMINI_API_KEY"):
        require_usable(resolve_provider("gemini", None, env={}))
    with pytest.raises(ConfigError, match="needs a server"):
        require_usable(resolve_provider("openai-compatible", None, env={"OPENAI_COMPATIBLE_MODEL": "m"}))
    require_usable(resolve_provider("offline", None, env={}))


def test_knobs_are_parsed_once_and_validated(config):
    knobs = parse_knobs({"C2V_LLM_TIMEOUT_S": "12.5", "C2V_LLM_MAX_TRIES": "7", "C2V_LLM_RPM": "30"})
    assert (knobs.timeout_s, knobs.max_tries, knobs.rpm, knobs.tpm) == (12.5, 7, 30, None)
    for bad in ({"C2V_LLM_MAX_TRIES": "many"}, {"C2V_LLM_MAX_TRIES": "0"}, {"C2V_LLM_TIMEOUT_S": "0"}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            parse_knobs(bad)
    path = config.parent / "limits.json"
    path.write_text(json.dumps({"gemini": {"api_key": "k", "rpm": 10, "tpm": 1000, "timeout_s": 30}}))
    settings = resolve_provider("gemini", path, env={"C2V_LLM_RPM": "5"})
    assert (settings.rpm, settings.tpm, settings.timeout_s) == (5, 1000, 30.0)


def test_price_table_defaults_and_overrides(tmp_path):
    table = {"gpt-4.1": Price(input=2, output=8), "gpt-4.1-mini": Price(input=0.4, output=1.6)}
    assert match_model("gpt-4.1-2025-04-14", table) == table["gpt-4.1"]
    assert match_model("gpt-4.1-mini-2025-04-14", table) == table["gpt-4.1-mini"]
    assert match_model("llama3", table) is None
    path = tmp_path / "api_config.json"
    path.write_text(
        json.dumps({"gemini": {"api_key": "k"}, "prices": {"gemini-2.5-flash": {"input": 1, "output": 2}}})
    )
    settings = resolve_provider("gemini", path, env={})
    assert settings.prices["gemini-2.5-flash"] == Price(input=1, output=2)
    assert "gpt-4o" in settings.prices  # the built-in table is still there
    assert load_api_config(path).prices == {"gemini-2.5-flash": Price(input=1, output=2)}


def test_per_entry_variables_win_over_vendor_variables(config):
    env = {
        "AZURE_OPENAI_ENDPOINT": "https://vendor.openai.azure.com",
        "GPT41_BASE_URL": "https://entry.openai.azure.com",
        "AZURE_OPENAI_API_KEY": "vendor-key",
        "GPT41_API_KEY": "entry-key",
    }
    settings = resolve_provider("gpt41", config, env=env)
    assert (settings.base_url, key(settings)) == ("https://entry.openai.azure.com", "entry-key")
    assert settings.key_source == "env GPT41_API_KEY"


def test_default_config_path_when_the_working_directory_is_gone(tmp_path, monkeypatch):
    # A Ray job's unpacked working_dir can be removed under a running driver: no local
    # api_config.json then, rather than a FileNotFoundError from every topic.
    from c2v.llm.settings import CONFIG_ENV, default_config_path

    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    assert default_config_path({}) is None
    assert default_config_path({CONFIG_ENV: "/etc/c2v.json"}) == Path("/etc/c2v.json")
