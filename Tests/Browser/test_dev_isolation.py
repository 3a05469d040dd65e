"""scripts/dev-isolation, which `make test` runs the suites under, catches a command that
writes into the data of the dev system it watches. Run here against the tests' own stores
(the environment's REDIS_URL, in the test's key space, and a database of the test's own: the
watched dev system's workers take work from every row of their database, and the Swift suites
run beside this one on DATABASE_URL), never `make run`'s."""
import os
import subprocess
import urllib.parse
import uuid

from conftest import binary, new_database

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "dev-isolation")


def redis_cli(*arguments: str) -> str:
    url = urllib.parse.urlparse(os.environ["REDIS_URL"])
    return subprocess.run(["redis-cli", "-h", url.hostname, "-p", str(url.port), "-n", url.path.strip("/") or "0", *arguments],
                          check=True, capture_output=True, text=True).stdout.strip()


def test_a_write_into_the_watched_data_fails_the_run():
    key = f"test:dev-isolation:{uuid.uuid4().hex}"
    url = urllib.parse.urlparse(os.environ["REDIS_URL"])
    intruder = ["redis-cli", "-h", url.hostname, "-p", str(url.port), "-n", url.path.strip("/") or "0", "SET", key, "1"]
    try:
        run = subprocess.run([SCRIPT, binary(), "--", *intruder], capture_output=True, text=True, timeout=300,
                             env=dict(os.environ, DATABASE_URL=new_database()))
        assert run.returncode == 1, run.stdout + run.stderr
        assert f"changed by the tests: redis {key}: absent -> string" in run.stdout, run.stdout
        assert redis_cli("GET", key) == "1", "the command itself ran"
    finally:
        redis_cli("DEL", key)
