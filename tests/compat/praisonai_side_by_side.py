"""One PraisonAI-style session, run under PraisonAI 4.7.19 and under this package, to compare what they return.

    /path/to/praisonai-venv/bin/python tests/compat/praisonai_side_by_side.py > theirs.json
    PYTHONPATH=src python tests/compat/praisonai_side_by_side.py > ours.json
    PYTHONPATH=src python tests/compat/praisonai_side_by_side.py --compare theirs.json ours.json

Not a test (CI has no PraisonAI); the same scenario is asserted in test_praisonai_user_code.py.
Last run (PraisonAI 4.7.19 from PyPI): every key the same except ``build_context``, whose history
is the newest messages here and the oldest there (docs/migrating-from-praisonai.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile

from praisonai.persistence.config import ENV_VARS, PersistenceConfig, get_env_var
from praisonai.persistence.conversation.sqlite import SQLiteConversationStore
from praisonai.persistence.hooks import PersistentAgent, create_persistent_session, wrap_agent_with_persistence
from praisonai.persistence.migrations import MigrationManager
from praisonai.persistence.orchestrator import PersistenceOrchestrator
from praisonai.persistence.state.memory import MemoryStateStore


class FakeAgent:
    def __init__(self, name="helper"):
        self.name = name
        self.chat_history = []

    def chat(self, prompt):
        return f"echo: {prompt}"


def compare(theirs_path: str, ours_path: str) -> None:
    with open(theirs_path) as theirs_file, open(ours_path) as ours_file:
        theirs, ours = json.load(theirs_file), json.load(ours_file)
    for key in sorted(set(theirs) | set(ours)):
        same = theirs.get(key) == ours.get(key)
        print(
            "same" if same else "DIFFERENT",
            key,
            "" if same else f"PraisonAI: {theirs.get(key)} / ours: {ours.get(key)}",
        )


if len(sys.argv) == 4 and sys.argv[1] == "--compare":
    compare(sys.argv[2], sys.argv[3])
    sys.exit(0)
out = {}
d = tempfile.mkdtemp()
path = os.path.join(d, "c.db")
o = PersistenceOrchestrator(conversation_store=SQLiteConversationStore(path=path), state_store=MemoryStateStore())
a = FakeAgent("researcher")
out["start_new"] = o.on_agent_start(a, session_id="run-12345678", user_id="alice")
s = o.get_session("run-12345678")
out["session"] = [s.user_id, s.agent_id, s.name, s.metadata]
m = o.on_message("run-12345678", "user", "hi")
out["msg"] = [type(m).__name__, m.role, m.content, m.session_id]
o.on_message("run-12345678", "assistant", "hello")
o.on_agent_end(a, "run-12345678", metadata={"outcome": "ok"})
out["ended_meta"] = o.get_session("run-12345678").metadata
out["resume"] = [(x.role, x.content) for x in o.on_agent_start(a, session_id="run-12345678")]
out["no_store"] = [
    PersistenceOrchestrator().on_agent_start(a, "x"),
    PersistenceOrchestrator().on_message("x", "user", "y"),
    PersistenceOrchestrator().get_state("k"),
    PersistenceOrchestrator().delete_state("k"),
]
o.set_state("k", {"n": 1})
out["state"] = [o.get_state("k"), o.delete_state("k"), o.delete_state("k")]
w = wrap_agent_with_persistence(FakeAgent(), o, session_id="chat-1", user_id="bob")
out["wrap"] = [
    w.chat("hello"),
    [(x.role, x.content) for x in w.get_messages()],
    w.get_session().user_id,
    w._persistence_session_id,
]
w2 = wrap_agent_with_persistence(FakeAgent(), o, session_id="chat-1")
w2.chat("third")
out["wrap_resume"] = w2.chat_history
pa = PersistentAgent(FakeAgent("writer"), o, session_id="wrapped")
out["pa"] = [pa.chat("draft"), pa.name, pa.session_id, asyncio.run(pa.achat("edit")), len(pa.get_messages())]
with create_persistent_session(o, session_id="manual") as ps:
    ps.persist_message("user", "note")
st = ps.get_session()
out["ps"] = [st.user_id, st.agent_id, st.metadata, [x.content for x in ps.get_messages()]]
w3 = wrap_agent_with_persistence(FakeAgent(), o)
out["default_sid"] = [w3._persistence_session_id[:8], len(w3._persistence_session_id)]


class Ad:
    _state_store = o.state

    def _init_stores(self):
        pass


mm = MigrationManager(Ad())
mm.register_migration("1.2.0", "b", up=lambda db: None)
out["mig"] = [mm.get_migration_status(), mm.migrate_up(), mm.get_current_version()]
out["cfg"] = [
    len(PersistenceConfig().to_dict()),
    PersistenceConfig.from_dict({"state_store": "redis", "zz": 1}).to_dict()["state_store"],
    len(ENV_VARS),
    get_env_var("chroma_path", "d"),
]
out["build_context"] = o.build_context("run-12345678", history_limit=1)
print(json.dumps(out, default=str, sort_keys=True))
