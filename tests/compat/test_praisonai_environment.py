"""The environment variables PraisonAI 4.7.19 reads, as defaults of our configs: explicit arguments win,
secrets stay masked, and a bad value names its variable."""

from __future__ import annotations

import re
import traceback
from typing import Any

import pytest

from praisonai.persistence.errors import ConfigError

from .test_praisonai_keywords import CONFIGS, COSMOS, INVENTORY, REGISTRIES, _value

SECRET = "env-secret-7f3a"
# Read by PraisonAI but by no backend of ours, and why.
NOT_BACKEND_DEFAULTS = {
    "PRAISONAI_SESSION_CACHE_MAX": "the orchestrator's cache size, not a backend's",
    "PINECONE_INDEX": "it names PraisonAI's index_name, which means nothing here (one index per collection)",
}


def _inventory_variables() -> set[str]:
    text = INVENTORY.read_text(encoding="utf-8")
    section = text.split("## Environment variables read by code (generated", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", section))


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for config in CONFIGS.values():
        for names in config.env_defaults.values():
            for name in names:
                monkeypatch.delenv(name, raising=False)


def test_every_variable_praisonai_reads_is_a_default_here() -> None:
    read_here = {name for config in CONFIGS.values() for names in config.env_defaults.values() for name in names}
    variables = _inventory_variables()
    assert "SUPABASE_KEY" in variables and "AWS_REGION" in variables
    assert variables - read_here == set(NOT_BACKEND_DEFAULTS)


# (kind, name, environment, keywords, the fields they must give)
ENVIRONMENT_CASES: list[tuple[str, str, dict[str, str], dict[str, Any], dict[str, Any]]] = [
    ("conversation", "supabase", {"SUPABASE_URL": "https://ref.supabase.co", "SUPABASE_KEY": SECRET}, {},
     {"project_url": "https://ref.supabase.co", "api_key": SECRET}),
    ("conversation", "supabase", {"SUPABASE_URL": "https://ref.supabase.co", "SUPABASE_KEY": SECRET},
     {"url": "https://other.supabase.co", "key": "explicit"},
     {"project_url": "https://other.supabase.co", "api_key": "explicit"}),
    ("conversation", "turso", {"TURSO_DATABASE_URL": "libsql://chat-org.turso.io", "TURSO_AUTH_TOKEN": SECRET}, {},
     {"url": "libsql://chat-org.turso.io", "auth_token": SECRET, "mode": "remote"}),
    ("conversation", "turso", {"TURSO_DATABASE_URL": "libsql://chat-org.turso.io", "TURSO_AUTH_TOKEN": SECRET},
     {"local_path": "replica.db"}, {"replica_path": "replica.db", "mode": "replica"}),
    ("conversation", "turso", {"TURSO_DATABASE_URL": "libsql://chat-org.turso.io", "TURSO_AUTH_TOKEN": SECRET},
     {"path": "local.db"}, {"path": "local.db", "url": None, "auth_token": None, "mode": "local"}),
    ("conversation", "turso", {"TURSO_AUTH_TOKEN": SECRET}, {}, {"url": None, "auth_token": None, "mode": "local"}),
    ("knowledge", "pinecone", {"PINECONE_API_KEY": SECRET, "PINECONE_INDEX": "ignored"}, {}, {"api_key": SECRET}),
    ("knowledge", "pinecone", {"PINECONE_API_KEY": SECRET}, {"api_key": "explicit"}, {"api_key": "explicit"}),
    ("knowledge", "weaviate", {"WEAVIATE_URL": "https://cluster.weaviate.cloud", "WEAVIATE_API_KEY": SECRET}, {},
     {"host": "cluster.weaviate.cloud", "http_port": 443, "secure": True, "api_key": SECRET}),
    ("knowledge", "weaviate", {"WEAVIATE_URL": "http://weaviate.example:8081"}, {"url": "http://127.0.0.1:9000"},
     {"host": "127.0.0.1", "http_port": 9000, "api_key": None}),
    ("knowledge", "upstash_vector",
     {"UPSTASH_VECTOR_REST_URL": "https://kb-vector.upstash.io", "UPSTASH_VECTOR_REST_TOKEN": SECRET}, {},
     {"url": "https://kb-vector.upstash.io", "token": SECRET}),
    ("knowledge", "cosmosdb", {"COSMOS_CONNECTION_STRING": COSMOS}, {},
     {"url": "https://acct.documents.azure.com:443/", "key": "c2VjcmV0LWtleQ=="}),
    ("state", "dynamodb", {"AWS_REGION": "eu-central-1"}, {}, {"region_name": "eu-central-1"}),
    ("state", "dynamodb", {"AWS_REGION": "eu-central-1"}, {"region": "us-west-2"}, {"region_name": "us-west-2"}),
    ("state", "firestore", {"FIRESTORE_PROJECT": "proj-env"}, {}, {"project": "proj-env"}),
    ("state", "firestore", {"FIRESTORE_PROJECT": "proj-env"}, {"project": "proj-1"}, {"project": "proj-1"}),
    ("state", "upstash", {"UPSTASH_REDIS_URL": "https://eu1-app.upstash.io", "UPSTASH_REDIS_TOKEN": SECRET}, {},
     {"url": "https://eu1-app.upstash.io", "token": SECRET}),
    ("state", "upstash", {"UPSTASH_REDIS_REST_URL": "https://eu1-rest.upstash.io", "UPSTASH_REDIS_REST_TOKEN": SECRET},
     {}, {"url": "https://eu1-rest.upstash.io", "token": SECRET}),
    ("state", "upstash", {"UPSTASH_REDIS_URL": "https://a.upstash.io", "UPSTASH_REDIS_REST_URL": "https://b.upstash.io",
      "UPSTASH_REDIS_TOKEN": SECRET}, {}, {"url": "https://a.upstash.io"}),
]  # fmt: skip


@pytest.mark.parametrize(
    "case", ENVIRONMENT_CASES, ids=lambda case: f"{case[0]}:{case[1]}:{'+'.join(case[2])}:{'+'.join(case[3])}"
)
def test_environment_defaults_and_explicit_arguments_win(
    case: tuple[str, str, dict[str, str], dict[str, Any], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    kind, name, environment, keywords, expected = case
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    config = REGISTRIES[kind].validate(name, **keywords)
    assert {field: _value(config, field) for field in expected} == expected
    assert SECRET not in repr(config) and SECRET not in config.model_dump_json()


def test_without_the_environment_the_credentials_are_missing() -> None:
    with pytest.raises(ConfigError) as caught:
        REGISTRIES["conversation"].validate("supabase")
    assert {error.field for error in caught.value.errors} == {"project_url", "api_key"}


@pytest.mark.parametrize(
    ("kind", "name", "environment", "variable"),
    [
        ("knowledge", "cosmosdb", {"COSMOS_CONNECTION_STRING": f"AccountEndpoint=https://a.example/;AccountKey={SECRET}!;"},
         "COSMOS_CONNECTION_STRING"),
        ("knowledge", "weaviate", {"WEAVIATE_URL": f"http://user:{SECRET}@weaviate.example"}, "WEAVIATE_URL"),
        ("conversation", "turso", {"TURSO_DATABASE_URL": f"postgres://u:{SECRET}@h/db"}, "TURSO_DATABASE_URL"),
        ("state", "upstash", {"UPSTASH_REDIS_URL": "ftp://eu1-app.upstash.io", "UPSTASH_REDIS_TOKEN": SECRET},
         "UPSTASH_REDIS_URL"),
    ],
)  # fmt: skip
def test_a_bad_environment_value_names_its_variable_and_hides_secrets(
    kind: str, name: str, environment: dict[str, str], variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as caught:
        REGISTRIES[kind].validate(name)
    text = "".join(traceback.format_exception(caught.value))
    assert variable in str(caught.value)
    assert SECRET not in text
