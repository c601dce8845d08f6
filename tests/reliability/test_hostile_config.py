"""Hostile input to every built-in config model: random URLs and keyword arguments.

For every row of the catalogue (so a new backend is covered the day it is added), the
config model is fed random URLs (any scheme, credentials with a secret, odd hosts, ports,
paths and query parameters, and values that are not strings at all) and random keyword
arguments (its own fields and unknown names, with values of every type). Whatever comes
in, ``from_options`` returns a config or raises our :class:`ConfigError` (a ValueError)
naming the backend; nothing else escapes, and the secret placed in the password, in the
secret fields and in secret-looking URL parameters shows up in no repr, message or
traceback.
"""

from __future__ import annotations

import importlib
import re
import traceback
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from praisonai.persistence._catalogue import BUILTINS
from praisonai.persistence._config import StoreConfig
from praisonai.persistence._loading import load_object
from praisonai.persistence.errors import ConfigError

from .conftest import Figures
from .strategies import SECRET, hostile_text

pytestmark = [pytest.mark.reliability]

EXAMPLES = 150
SCHEMES = (
    "postgresql", "postgres", "postgresql+psycopg", "cockroachdb", "mysql", "mariadb", "mysql+pymysql", "redis",
    "rediss", "unix", "mongodb", "mongodb+srv", "sqlite", "json", "memory", "http", "https", "ws", "wss", "libsql",
    "surrealkv", "mem", "file", "dynamodb", "firestore", "gs", "chroma", "qdrant", "milvus", "lancedb", "clickhouse",
    "singlestore", "turso", "cassandra", "couchbase", "weaviate", "pinecone", "cosmosdb", "upstash", "",
)  # fmt: skip
USERINFO = ("", "user@", f"user:{SECRET}@", f":{SECRET}@", f"u%40x:{SECRET}@", f"a:b:{SECRET}@", f"user:{SECRET}%40x@")
HOSTS = ("localhost", "127.0.0.1", "[::1]", "[bad", "db.example.com", "", "h\x00st", "ex ample", "😀.example")
PORTS = ("", ":5432", ":0", ":65535", ":99999", ":abc", ":-1", ":")
QUERIES = (
    "",
    f"?password={SECRET}",
    f"?token={SECRET}&x=1",
    f"?api_key={SECRET}",
    f"?auth_token={SECRET}",
    f"?access_key={SECRET}&secret_key={SECRET}",
    "?schema=x;drop",
    "?%zz",
    "?a=1&a=2",
    "?sslmode=sometimes",
    "?db=notanumber",
)


# Fields whose names look secret but are not: an AWS access key id is an identifier (the secret
# access key is the secret), a credentials file is a path, LightRAG's token* fields count tokens.
NOT_SECRETS = frozenset(
    {"aws_access_key_id", "credentials_file", "tokenizer", "chunk_token_size", "chunk_overlap_token_size"}
)


def secret_fields(config: type[StoreConfig]) -> set[str]:
    """SecretStr fields, and every field named like a secret (so one typed ``str`` by mistake is caught)."""
    return {name for name in config.model_fields if config._is_secret(name) and name not in NOT_SECRETS}


def documented_schemes(config: type[StoreConfig], adapter: str) -> tuple[str, ...]:
    """The URL schemes named by the config's docstring and the adapter module's (its URL forms)."""
    text = (config.__doc__ or "") + (importlib.import_module(adapter.partition(":")[0]).__doc__ or "")
    return tuple(sorted(set(re.findall(r"([a-z][a-z0-9+.-]*)://", text)))) or SCHEMES


def _urls(config: type[StoreConfig], adapter: str) -> st.SearchStrategy[Any]:
    text_urls = st.builds(
        lambda scheme, userinfo, host, port, path, query: f"{scheme}://{userinfo}{host}{port}{path}{query}",
        st.one_of(st.sampled_from(documented_schemes(config, adapter)), st.sampled_from(SCHEMES), hostile_text(2)),
        st.sampled_from(USERINFO),
        st.one_of(st.sampled_from(HOSTS), hostile_text(2)),
        st.sampled_from(PORTS),
        st.one_of(st.just(""), st.just("/db"), hostile_text(3).map(lambda text: "/" + text)),
        st.one_of(st.just(""), st.sampled_from(QUERIES), hostile_text(3).map(lambda text: "?" + text)),
    )
    odd = st.one_of(st.integers(), st.binary(max_size=8), st.lists(st.text(max_size=3), max_size=2), hostile_text())
    return st.one_of(st.none(), text_urls, text_urls, text_urls, odd)


def _values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        hostile_text(),
        st.binary(max_size=8),
        st.sampled_from(("127.0.0.1", "5432", "true", "1.5", "cosine", "db", "http://127.0.0.1:1")),
    )
    return st.one_of(
        scalars,
        scalars,
        st.lists(scalars, max_size=3),
        st.dictionaries(st.text(max_size=4), scalars, max_size=3),
        st.just(object()),
    )


def _secret_values() -> st.SearchStrategy[Any]:
    return st.one_of(st.just(SECRET), _bad_secret_values())


def _bad_secret_values() -> st.SearchStrategy[Any]:
    return st.sampled_from(
        (
            [SECRET],
            {"value": SECRET},
            SECRET + "\x00",
            (SECRET, 1),
            f"postgresql://user:{SECRET}@h/d",
            b"\xff" + SECRET.encode(),
        )
    )


def _kwargs(config: type[StoreConfig]) -> st.SearchStrategy[dict[str, Any]]:
    fields = sorted(config.model_fields)
    secrets = secret_fields(config)
    names = st.one_of(st.sampled_from(fields), st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12))
    options = st.one_of(st.just({}), st.dictionaries(names, _values(), max_size=5))
    return options.flatmap(
        lambda options: st.fixed_dictionaries(
            {name: _secret_values() for name in secrets},
        ).map(lambda secret_options: {**options, **secret_options})
    )


def _leaks(text: str) -> bool:
    return SECRET in text or SECRET.encode().hex() in text


CONFIGS = [(backend.name, backend.kind, backend.config, backend.adapter) for backend in BUILTINS]


@pytest.mark.parametrize(
    ("name", "kind", "path", "adapter"), CONFIGS, ids=[f"{kind}:{name}" for name, kind, _, _ in CONFIGS]
)
def test_config_models_take_anything_and_leak_nothing(
    name: str, kind: str, path: str, adapter: str, figures: Figures
) -> None:
    config: type[StoreConfig] = load_object(path)
    outcomes = {"accepted": 0, "refused": 0}

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(url=_urls(config, adapter), options=st.data())
    def check(url: Any, options: st.DataObject) -> None:
        kwargs = options.draw(_kwargs(config))
        error: ConfigError | None = None
        try:
            made = config.from_options(url, kwargs)
        except ConfigError as caught:
            error = caught
        if error is not None:
            assert type(error) is ConfigError
            assert error.backend == name and f"'{name}'" in str(error)
            text = "".join(traceback.format_exception(error)) + repr(error.errors)
            assert not _leaks(text), text
            outcomes["refused"] += 1
            return
        for text in (repr(made), str(made), made.model_dump_json(), repr(made.model_dump())):
            assert not _leaks(text), text
        outcomes["accepted"] += 1

    check()
    figures.record("config_fuzz", f"{kind}:{name}", examples=sum(outcomes.values()), **outcomes)
