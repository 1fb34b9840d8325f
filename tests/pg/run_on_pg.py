#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs one integration test (tests/integration/NN-feature.py) against PostgreSQL: ctest's
integration-pg.<name>. The URL of the cluster the pg.start fixture started
(scripts/pg_tmp.sh) is read from URL_FILE and handed to the test as DD_TEST_STORE, so
tests/integration/lib/ddserver.py gives each server its own fresh database. While the
server has no PostgreSQL store (`iotdefender serve --help` does not mention --store), the
test is skipped (exit 77, ctest's SKIP_RETURN_CODE) with the reason printed.

usage: run_on_pg.py URL_FILE NN-feature"""
import os
import subprocess
import sys

SKIP = 77


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    url_file, name = sys.argv[1], sys.argv[2]
    binary = os.environ.get("IOTDEFENDER_BIN")
    if not binary:
        print("run_on_pg: IOTDEFENDER_BIN is not set")
        return 2
    p = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, timeout=60)
    if "--store" not in p.stdout + p.stderr:
        print("SKIP: %s serve --help does not mention --store: this build has no PostgreSQL store,"
              " so %s runs on SQLite only" % (binary, name))
        return SKIP
    try:
        with open(url_file) as f:
            url = f.read().strip()
    except OSError as e:
        print("run_on_pg: no cluster URL (%s): did the pg.start fixture (scripts/pg_tmp.sh) fail?" % e)
        return 1
    env = dict(os.environ, DD_TEST_STORE=url)
    here = os.path.dirname(os.path.abspath(__file__))
    cwd = os.path.join(here, "..", "integration")
    return subprocess.run([sys.executable, "-m", "unittest", "-v", name], cwd=cwd, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
