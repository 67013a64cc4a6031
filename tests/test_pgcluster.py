"""The test suite's own PostgreSQL server starts, takes connections and stops."""

import subprocess

import pytest


def test_a_throw_away_cluster_serves_a_fresh_database(postgres_cluster):
    url = postgres_cluster.create_database("smoke")
    assert url.startswith("postgresql+psycopg://") and url.endswith("/smoke")
    assert postgres_cluster.psql("smoke", "SELECT current_database()").strip() == "smoke"
    with pytest.raises(subprocess.CalledProcessError):
        postgres_cluster.create_database("smoke")  # names are unique: it is a real server
