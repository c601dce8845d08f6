"""Amazon DynamoDB state store.

Engine: Amazon DynamoDB (and compatible endpoints: DynamoDB Local, LocalStack, moto).
Driver: boto3 (``pip install "praisonai-persistence[dynamodb]"``).
URL form: ``dynamodb://<table>[?region=<region>][&endpoint_url=<url>][&profile=<name>]``;
or the fields of :class:`~praisonai.persistence.state.config.DynamoDBStateConfig`.
Credentials come from boto3's chain unless given.
Test tier: emulator (AWS DynamoDB Local, AWS's own emulator of the service, on loopback, through real
boto3 HTTP calls).

One item per key in a table whose partition key is the string ``k``::

    {k, kind: "v" | "h", v: JSON text | h: {field: JSON text}, expires_at: N, ttl_epoch: N, ver: S}

``expires_at`` is exact (reads hide expired items themselves); ``ttl_epoch``
is the same instant rounded up to whole seconds, the attribute DynamoDB's own
TTL deletes by (it may lag by hours; it never deletes early). Writes that
depend on the stored item are conditional on ``ver``; ``keys()`` is a Scan
(filtered by key prefix and expiry) that follows ``LastEvaluatedKey`` past
every 1 MB page. A partition key is at most 2048 bytes and an item 400 KB.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar

from .._config import secret_value
from .._redact import redact_secrets, release_secrets
from ..errors import BackendUnavailableError, InvalidInputError, NotFoundError, StoreError
from ._document_store import HASH, VALUE, DocumentStateStore, Item, Token
from .config import DynamoDBStateConfig

__all__ = ["DynamoDBStateStore"]

_BATCH_GET = 100
_BATCH_WRITE = 25
_UNAVAILABLE = ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError")
_BOTOCORE_LOGGERS = ("botocore.auth", "botocore.endpoint", "botocore.httpsession", "botocore.parsers")


class DynamoDBStateStore(DocumentStateStore[DynamoDBStateConfig]):
    """State as one DynamoDB item per key, with native TTL and conditional writes."""

    max_key_bytes: ClassVar[int | None] = 2048

    def __init__(self, config: DynamoDBStateConfig) -> None:
        super().__init__(config, config.key_prefix)
        boto3 = self._import_driver("boto3")
        botocore_config = self._import_driver("botocore.config")
        self._botocore_exceptions = self._import_driver("botocore.exceptions")
        secret_key, session_token = secret_value(config.aws_secret_access_key), secret_value(config.aws_session_token)
        # botocore logs every request it signs at DEBUG level, the session token header included.
        self._redacted = redact_secrets(_BOTOCORE_LOGGERS, (secret_key, session_token))
        try:
            with self._translating:
                session = boto3.session.Session(
                    profile_name=config.profile_name,
                    region_name=config.region_name,
                    aws_access_key_id=config.aws_access_key_id,
                    aws_secret_access_key=secret_key,
                    aws_session_token=session_token,
                )
                self._client: Any = session.client(
                    "dynamodb",
                    endpoint_url=config.endpoint_url,
                    config=botocore_config.Config(
                        connect_timeout=config.connect_timeout,
                        read_timeout=config.read_timeout,
                        retries={"max_attempts": config.max_attempts, "mode": "standard"},
                    ),
                )
                self._table = config.table_name
                try:
                    self._ensure_table()
                except BaseException:
                    self._client.close()
                    raise
        except BaseException:
            release_secrets(self._redacted)
            raise

    # -- plumbing --------------------------------------------------------------

    def _translate_error(self, error: Exception) -> Exception | None:
        exceptions = self._botocore_exceptions
        if isinstance(error, exceptions.ClientError):
            code = error.response.get("Error", {}).get("Code", "")
            message = error.response.get("Error", {}).get("Message", "")
            if code == "ResourceNotFoundException":
                return NotFoundError(f"table {self.config.table_name!r}: {message}")
            if code == "ValidationException" and "size" in message.lower():
                return InvalidInputError(f"DynamoDB refused the item: {message}")
            return StoreError(f"{code}: {message}")
        if isinstance(error, exceptions.BotoCoreError) and type(error).__name__ in _UNAVAILABLE:
            return BackendUnavailableError(f"cannot reach DynamoDB: {error}")
        return None

    def _is_conflict(self, error: Exception) -> bool:
        return isinstance(error, self._botocore_exceptions.ClientError) and error.response.get("Error", {}).get(
            "Code"
        ) in ("ConditionalCheckFailedException", "TransactionConflictException")

    def _ensure_table(self) -> None:
        try:
            self._client.describe_table(TableName=self._table)
            return
        except self._botocore_exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            if not self.config.create_table:
                raise NotFoundError(
                    f"table {self._table!r} does not exist; create it (partition key 'k', a string) "
                    "or pass create_table=True"
                ) from None
        try:
            self._client.create_table(
                TableName=self._table,
                KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        except self._botocore_exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise  # another process creating it at the same time is fine
        self._client.get_waiter("table_exists").wait(TableName=self._table, WaiterConfig={"Delay": 1})
        if self.config.enable_ttl:
            self._client.update_time_to_live(
                TableName=self._table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl_epoch"}
            )

    # -- item codec ------------------------------------------------------------

    @staticmethod
    def _encode(key: str, item: Item) -> dict[str, Any]:
        encoded: dict[str, Any] = {"k": {"S": key}, "kind": {"S": item.kind}, "ver": {"S": uuid.uuid4().hex}}
        if item.kind == VALUE:
            encoded["v"] = {"S": item.value}
        else:
            encoded["h"] = {"M": {field: {"S": text} for field, text in (item.fields or {}).items()}}
        if item.expires_at is not None:
            encoded["expires_at"] = {"N": repr(item.expires_at)}
            encoded["ttl_epoch"] = {"N": str(int(Decimal(repr(item.expires_at)).to_integral_value("ROUND_CEILING")))}
        return encoded

    @staticmethod
    def _decode(raw: dict[str, Any]) -> tuple[Item, Token]:
        expires_at = float(raw["expires_at"]["N"]) if "expires_at" in raw else None
        if raw.get("kind", {}).get("S") == HASH:
            fields = {field: value["S"] for field, value in raw.get("h", {}).get("M", {}).items()}
            item = Item(HASH, fields=fields, expires_at=expires_at)
        else:
            item = Item(VALUE, value=raw.get("v", {}).get("S"), expires_at=expires_at)
        return item, raw.get("ver", {}).get("S")

    # -- primitives ------------------------------------------------------------

    def _load(self, key: str) -> tuple[Item, Token] | None:
        reply = self._client.get_item(TableName=self._table, Key={"k": {"S": key}}, ConsistentRead=True)
        raw = reply.get("Item")
        return None if raw is None else self._decode(raw)

    def _conditional(self, call: Any, **arguments: Any) -> bool:
        try:
            call(TableName=self._table, **arguments)
        except self._botocore_exceptions.ClientError as error:
            if self._is_conflict(error):
                return False
            raise
        return True

    def _create(self, key: str, item: Item) -> bool:
        return self._conditional(
            self._client.put_item, Item=self._encode(key, item), ConditionExpression="attribute_not_exists(k)"
        )

    def _replace(self, key: str, item: Item, token: Token) -> bool:
        return self._conditional(
            self._client.put_item,
            Item=self._encode(key, item),
            ConditionExpression="ver = :ver",
            ExpressionAttributeValues={":ver": {"S": token}},
        )

    def _remove(self, key: str, token: Token) -> bool:
        return self._conditional(
            self._client.delete_item,
            Key={"k": {"S": key}},
            ConditionExpression="ver = :ver",
            ExpressionAttributeValues={":ver": {"S": token}},
        )

    def _put(self, key: str, item: Item) -> None:
        self._client.put_item(TableName=self._table, Item=self._encode(key, item))

    def _scan(self, prefix: str) -> Iterable[tuple[str, float | None]]:
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "ConsistentRead": True,
            "ProjectionExpression": "#k, #e",
            "FilterExpression": "(attribute_not_exists(#e) OR #e > :now)",
            "ExpressionAttributeNames": {"#k": "k", "#e": "expires_at"},
            "ExpressionAttributeValues": {":now": {"N": repr(time.time())}},
        }
        if prefix:
            arguments["FilterExpression"] += " AND begins_with(#k, :prefix)"
            arguments["ExpressionAttributeValues"][":prefix"] = {"S": prefix}
        found: list[tuple[str, float | None]] = []
        while True:
            page = self._client.scan(**arguments)
            for raw in page.get("Items", []):
                found.append((raw["k"]["S"], float(raw["expires_at"]["N"]) if "expires_at" in raw else None))
            last = page.get("LastEvaluatedKey")
            if not last:
                return found
            arguments["ExclusiveStartKey"] = last

    def _load_many(self, keys: list[str]) -> dict[str, Item]:
        found: dict[str, Item] = {}
        for start in range(0, len(keys), _BATCH_GET):
            pending: dict[str, Any] = {
                self._table: {
                    "Keys": [{"k": {"S": key}} for key in keys[start : start + _BATCH_GET]],
                    "ConsistentRead": True,
                }
            }
            attempt = 0
            while pending:
                reply = self._client.batch_get_item(RequestItems=pending)
                for raw in reply.get("Responses", {}).get(self._table, []):
                    found[raw["k"]["S"]] = self._decode(raw)[0]
                pending = reply.get("UnprocessedKeys") or {}
                attempt = self._pause(attempt) if pending else 0
        return found

    def _put_many(self, items: list[tuple[str, Item]]) -> None:
        for start in range(0, len(items), _BATCH_WRITE):
            chunk = items[start : start + _BATCH_WRITE]
            pending: dict[str, Any] = {
                self._table: [{"PutRequest": {"Item": self._encode(key, item)}} for key, item in chunk]
            }
            attempt = 0
            while pending:
                reply = self._client.batch_write_item(RequestItems=pending)
                pending = reply.get("UnprocessedItems") or {}
                attempt = self._pause(attempt) if pending else 0

    def _pause(self, attempt: int) -> int:
        # Throttled batch parts come back unprocessed; back off before resending them.
        if attempt >= 10:
            raise StoreError("DynamoDB kept leaving batch items unprocessed (throttled)")
        time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))
        return attempt + 1

    def _shutdown(self) -> None:
        try:
            self._client.close()
        finally:
            release_secrets(self._redacted)

    def __repr__(self) -> str:
        return f"DynamoDBStateStore(table={self.config.table_name!r}, key_prefix={self.config.key_prefix!r})"
