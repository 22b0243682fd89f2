"""`c2v keys create|list|revoke` through the real command line, on SQLite."""

import re

from c2v.store import keys
from c2v.store.db import Database
from tests.service.served import c2v_cli


def test_create_prints_the_key_alone_list_never_shows_it_revoke_stops_it(tmp_path):
    env = {"C2V_DATABASE_URL": f"sqlite:///{tmp_path / 'keys.db'}"}
    made = c2v_cli("keys", "create", "acme", "--rpm", "30", env=env)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert re.fullmatch(r"c2v_([a-z0-9]{12})_[A-Za-z0-9_-]{40,}", key) and made.stdout.count("\n") == 1
    key_id = key.split("_")[1]
    db = Database(env["C2V_DATABASE_URL"])
    caller = keys.authenticate(db, key)
    assert caller is not None and caller.tenant == "acme" and caller.rpm == 30
    listed = c2v_cli("keys", "list", env=env)
    assert listed.returncode == 0 and key_id in listed.stdout and "active" in listed.stdout
    assert key.split("_", 2)[2] not in listed.stdout + listed.stderr
    assert c2v_cli("keys", "revoke", key_id, env=env).returncode == 0
    assert keys.authenticate(db, key) is None
    assert "revoked" in c2v_cli("keys", "list", env=env).stdout
    unknown = c2v_cli("keys", "revoke", "nosuchkey000", env=env)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "c2v: error: no API key 'nosuchkey000'; `c2v keys list` shows them"
    bad = c2v_cli("keys", "create", "no/slashes", env=env)
    assert bad.returncode == 2 and "tenant name 'no/slashes' is not allowed" in bad.stderr
    db.dispose()
