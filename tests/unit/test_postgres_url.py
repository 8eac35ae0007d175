"""The connection parameters of a PostgreSQL URL: TCP, and libpq's two Unix-socket forms."""

from __future__ import annotations

import pytest

from persistence.postgres_url import PostgresParams
from persistence.tortoise.database import tortoise_config


def credentials(url: str) -> dict[str, object]:
    """What Tortoise's pool is given for ``url``."""
    connection: dict[str, object] = tortoise_config(url)["connections"]["postgres"]
    found = connection["credentials"]
    assert isinstance(found, dict)
    return found


def test_a_tcp_url_reads_as_it_always_did() -> None:
    params = PostgresParams.parse("postgres://Bob:p%40ss@DB.Example.com:6543/trades")
    assert params == PostgresParams("db.example.com", 6543, "Bob", "p@ss", "trades")
    assert not params.is_socket


@pytest.mark.parametrize(
    ("url", "host", "password"),
    [
        ("postgres://app:p%40ss%3Aw%2F@[::1]:5433/trades", "::1", "p@ss:w/"),
        ("postgres://app:p@ss:w@[2001:DB8::5]:5433/trades", "2001:db8::5", "p@ss:w"),
    ],
)
def test_an_ipv6_host_and_a_password_of_special_characters_read_as_libpq_reads_them(
    url: str, host: str, password: str
) -> None:
    params = PostgresParams.parse(url)
    assert (params.host, params.port, params.password) == (host, 5433, password)
    assert not params.is_socket


def test_the_password_stays_out_of_the_parameters_repr() -> None:
    params = PostgresParams.parse("postgres://app:s3cret@db/trades")
    assert params.password == "s3cret" and "s3cret" not in repr(params)


def test_a_percent_encoded_database_name_is_decoded_as_libpq_and_asyncpg_do() -> None:
    assert PostgresParams.parse("postgres://app@db/trades%20eu%2D1").database == "trades eu-1"


def test_an_empty_url_means_the_local_server_as_postgres() -> None:
    params = PostgresParams.parse("postgresql://")
    assert params == PostgresParams("127.0.0.1", 5432, "postgres", "", "postgres")


def test_a_percent_encoded_host_is_a_socket_directory_with_its_case() -> None:
    params = PostgresParams.parse("postgres://app@%2Fvar%2FRun%2Fpostgresql/trades")
    assert params.host == "/var/Run/postgresql" and params.is_socket
    assert (params.port, params.user, params.database) == (5432, "app", "trades")


def test_a_port_with_a_socket_names_the_socket_file() -> None:
    params = PostgresParams.parse("postgres://app:secret@%2fsrv%2Fpg:5433/trades")
    assert (params.host, params.port, params.password) == ("/srv/pg", 5433, "secret")


@pytest.mark.parametrize(
    "url",
    [
        "postgres://app@/trades?host=/var/Run/postgresql&port=5433",
        "postgres:///trades?host=%2Fvar%2FRun%2Fpostgresql&port=5433",
        "postgres://app@127.0.0.1:5432/trades?host=/var/Run/postgresql&port=5433",
    ],
)
def test_a_host_in_the_query_is_the_socket_directory_and_wins(url: str) -> None:
    params = PostgresParams.parse(url)
    assert (params.host, params.port, params.database) == ("/var/Run/postgresql", 5433, "trades")
    assert "host" not in params.options and "port" not in params.options


def test_connection_arguments_leave_the_pool_options_out() -> None:
    params = PostgresParams.parse("postgres://app@%2Frun%2Fpg/trades?maxsize=2&minsize=1")
    assert params.connect_kwargs() == {
        "host": "/run/pg",
        "port": 5432,
        "user": "app",
        "password": "",
        "database": "trades",
    }


def test_how_to_connect_is_in_the_connection_arguments_so_the_bus_takes_it_too() -> None:
    """``?ssl=verify-full`` verifies the server for the pool and the bus's LISTEN alike."""
    url = "postgres://app:pw@db.example.org/trades?ssl=verify-full&maxsize=3"
    assert PostgresParams.parse(url).connect_kwargs()["ssl"] == "verify-full"
    assert credentials(url)["ssl"] == "verify-full"


@pytest.mark.parametrize(
    "url",
    [
        "postgres://app@%2Frun%2FPg/trades?maxsize=3",
        "postgres://app@/trades?host=/run/Pg&maxsize=3",
    ],
)
def test_the_pool_reaches_the_socket_with_its_options(url: str) -> None:
    found = credentials(url)
    assert (found["host"], found["port"], found["database"]) == ("/run/Pg", 5432, "trades")
    assert (found["minsize"], found["maxsize"]) == (1, 3)


def test_the_pool_of_a_tcp_url_is_configured_as_before() -> None:
    found = credentials("postgres://app:pw@Example.org:5440/trades?maxsize=4")
    del found["reset"]
    assert found == {
        "host": "example.org",
        "port": 5440,
        "user": "app",
        "password": "pw",
        "database": "trades",
        "minsize": 1,
        "maxsize": 4,
    }
