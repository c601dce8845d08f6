"""SingleStore's vector and JSON functions as MariaDB stored functions, for the ``singlestore_vector`` tests.

The adapter's statements call five SingleStore built-ins that MariaDB 10.11 lacks. This
module defines them in a test database with SingleStore's documented results for the
arguments the adapter passes:

- ``JSON_ARRAY_PACK(json)``: SingleStore packs a JSON array of numbers into a float32
  blob; here the JSON text is kept as is (``DOT_PRODUCT`` / ``EUCLIDEAN_DISTANCE`` below read it).
- ``DOT_PRODUCT(a, b)``, ``EUCLIDEAN_DISTANCE(a, b)``: the dot product and L2 distance.
- ``JSON_ARRAY_CONTAINS_STRING(array, s)``: whether the JSON array holds the string ``s``.
- ``JSON_EXTRACT_DOUBLE(json, key)``: the number under a top-level key, NULL if absent.

The packed float32 representation and SingleStore's own implementations are not exercised.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["install_singlestore_functions"]

_FUNCTIONS = [
    "CREATE FUNCTION JSON_ARRAY_PACK(j LONGTEXT) RETURNS LONGTEXT DETERMINISTIC RETURN j",
    """CREATE FUNCTION DOT_PRODUCT(a LONGTEXT, b LONGTEXT) RETURNS DOUBLE DETERMINISTIC
    BEGIN
      DECLARE i INT DEFAULT 0;
      DECLARE total DOUBLE DEFAULT 0;
      DECLARE n INT DEFAULT JSON_LENGTH(a);
      IF n <> JSON_LENGTH(b) THEN
        SIGNAL SQLSTATE '22000' SET MESSAGE_TEXT = 'vectors of different lengths';
      END IF;
      WHILE i < n DO
        SET total = total + CAST(JSON_EXTRACT(a, CONCAT('$[', i, ']')) AS DOUBLE)
                          * CAST(JSON_EXTRACT(b, CONCAT('$[', i, ']')) AS DOUBLE);
        SET i = i + 1;
      END WHILE;
      RETURN total;
    END""",
    """CREATE FUNCTION EUCLIDEAN_DISTANCE(a LONGTEXT, b LONGTEXT) RETURNS DOUBLE DETERMINISTIC
    BEGIN
      DECLARE i INT DEFAULT 0;
      DECLARE total DOUBLE DEFAULT 0;
      DECLARE d DOUBLE;
      DECLARE n INT DEFAULT JSON_LENGTH(a);
      IF n <> JSON_LENGTH(b) THEN
        SIGNAL SQLSTATE '22000' SET MESSAGE_TEXT = 'vectors of different lengths';
      END IF;
      WHILE i < n DO
        SET d = CAST(JSON_EXTRACT(a, CONCAT('$[', i, ']')) AS DOUBLE)
              - CAST(JSON_EXTRACT(b, CONCAT('$[', i, ']')) AS DOUBLE);
        SET total = total + d * d;
        SET i = i + 1;
      END WHILE;
      RETURN SQRT(total);
    END""",
    "CREATE FUNCTION JSON_ARRAY_CONTAINS_STRING(a LONGTEXT, s LONGTEXT) RETURNS BOOLEAN DETERMINISTIC "
    "RETURN JSON_CONTAINS(a, JSON_QUOTE(s))",
    "CREATE FUNCTION JSON_EXTRACT_DOUBLE(j LONGTEXT, k LONGTEXT) RETURNS DOUBLE DETERMINISTIC "
    "RETURN CAST(JSON_VALUE(j, CONCAT('$.\"', k, '\"')) AS DOUBLE)",
]


def install_singlestore_functions(database_url: str) -> None:
    """Create the functions in the database of ``database_url`` (a fresh test database)."""
    import pymysql

    parts = urlsplit(database_url)
    connection = pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        database=parts.path.lstrip("/"),
        charset="utf8mb4",
        autocommit=True,
    )
    try:
        with connection.cursor() as cursor:
            for statement in _FUNCTIONS:
                cursor.execute(statement)
    finally:
        connection.close()
