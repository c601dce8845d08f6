"""singlestore_vector: the knowledge contract suite with the real singlestoredb driver and the
adapter's exact statements on MariaDB 10.11 over the MySQL protocol, with SingleStore's vector and
JSON functions defined as stored functions (tests/support/singlestore_shim.py). SingleStore itself
is not exercised."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from praisonai.persistence.errors import ConfigError
from praisonai.persistence.knowledge._filters.native import lower
from praisonai.persistence.knowledge.base import KnowledgeStore
from praisonai.persistence.knowledge.config import SingleStoreVectorKnowledgeConfig
from praisonai.persistence.knowledge.filters import parse_filter
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract
from tests.support.emulators import require_driver
from tests.support.hosted_checks import check_transfer_extras
from tests.support.singlestore_shim import install_singlestore_functions
from tests.support.sql_servers import create_mysql_database, drop_mysql_database, with_database


@pytest.fixture
def database_url(mysql_url: str) -> Iterator[str]:
    require_driver("singlestoredb", "singlestore")
    pytest.importorskip("pymysql", reason="the MariaDB fixtures use PyMySQL (extra 'mysql')")
    name = create_mysql_database(mysql_url)
    url = with_database(mysql_url, name)
    install_singlestore_functions(url)
    yield url
    drop_mysql_database(mysql_url, name)


def _open(url: str) -> KnowledgeStore:
    return KNOWLEDGE_STORES.create("singlestore_v", url=url.replace("mysql://", "singlestoredb://"))


class TestSingleStoreVectorContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, database_url: str) -> Iterator[KnowledgeStore]:
        store = _open(database_url)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, database_url: str) -> Callable[[], KnowledgeStore]:
        return lambda: _open(database_url)


def test_filter_sql_uses_singlestore_functions_and_parameters() -> None:
    from praisonai.persistence.knowledge.singlestore_vector import SingleStoreFilter

    hostile = "'; DROP TABLE x; --"
    where = SingleStoreFilter()
    text = where.render(lower(parse_filter({"a": hostile, "n": {"$gte": 3}}), chunk_limit=16))
    assert hostile not in text
    assert text == (
        "(JSON_ARRAY_CONTAINS_STRING(ix, %(p0)s) AND (JSON_ARRAY_CONTAINS_STRING(ix, %(p1)s) "
        "AND JSON_EXTRACT_DOUBLE(n, %(p3)s) >= %(p2)s))"
    )
    assert where.values["p2"] == 3.0 and where.values["p3"] == "f6e"


def test_config_forms_and_secret_masking() -> None:
    config = SingleStoreVectorKnowledgeConfig.from_options("singlestoredb://admin:s2-secret@svc.example:3333/rag")
    assert (config.host, config.port, config.database, config.user) == ("svc.example", 3333, "rag", "admin")
    assert config.password is not None and "s2-secret" not in repr(config)
    with pytest.raises(ConfigError):
        SingleStoreVectorKnowledgeConfig.from_options("singlestoredb://h/bad-db")


def test_transfer_extras(database_url: str) -> None:
    with _open(database_url) as store:
        check_transfer_extras(store, "euclidean")
