"""Conversation writers in separate processes, for the multi-process and SIGKILL tests.

Run as a script, this module is the writer::

    python _processes.py <backend> <options-json> <mode> <session_id> <tag> <count>

It prints ``ready`` once the session exists, then one line per acknowledged
write (``ack <message id>``, ``del <message id>``; ``created``/``exists`` in
``create`` mode), flushed before the next write starts, so a parent that kills
it knows exactly which writes were acknowledged. A delete is announced
(``deleting <message id>``) before it starts: killed in flight, it may or may
not have happened. A batch is announced too (``batching <id> <id> <id>``), so a
parent can check that it is stored whole or not at all.

Modes:
- ``append``: add ``count`` messages, all with created_at 1.0 (so order = insertion order).
- ``mixed``: ``count`` steps (forever if 0) of single messages, batches, session
  updates and deletes of earlier messages; ``mixed-threads``: the same in four threads at once.
  Each message's metadata holds ``started``, the time just before its write began: a
  session's ``updated_at`` is never earlier than that of a message it holds.
- ``create``: try once to create the session, named ``tag``.

Imported, it offers :func:`run_writers`, :func:`race_creates`, :func:`kill_mid_stream` and
:func:`modules_after`.
"""

from __future__ import annotations

import contextlib
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

WRITER = Path(__file__).resolve()


def _start(backend: str, options: dict[str, Any], mode: str, session_id: str, tag: str, count: int, **popen: Any):
    command = [sys.executable, str(WRITER), backend, json.dumps(options), mode, session_id, tag, str(count)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, **popen)


def run_writers(
    backend: str, options: dict[str, Any], session_id: str, writers: int, count: int, timeout: float = 120
) -> list[list[str]]:
    """Run ``writers`` processes appending ``count`` messages each; the acknowledged ids of each."""
    processes = [
        _start(backend, options, "append", session_id, f"p{writer}", count, stderr=subprocess.PIPE)
        for writer in range(writers)
    ]
    acked = []
    for process in processes:
        out, err = process.communicate(timeout=timeout)
        assert process.returncode == 0, err
        acked.append([line.split()[1] for line in out.splitlines() if line.startswith("ack ")])
    return acked


def race_creates(backend: str, options: dict[str, Any], session_id: str, racers: int) -> list[str]:
    """Start ``racers`` processes creating one session at once; each one's answer, in order."""
    processes = [
        _start(backend, options, "create", session_id, f"racer{racer}", 0, stderr=subprocess.PIPE)
        for racer in range(racers)
    ]
    answers = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        answers.append(out.strip())
    return answers


def kill_mid_stream(
    backend: str, options: dict[str, Any], session_id: str, rounds: int, seed: int = 0
) -> tuple[set[str], set[str], set[str]]:
    """Start a ``mixed`` writer, SIGKILL it at a random moment, ``rounds`` times on the same data.

    Returns the message ids whose add was acknowledged, and those whose delete was acknowledged or in flight
    (``(added, deleted, in_flight)``): an in-flight delete may or may not have happened.
    """
    rng = random.Random(seed)
    added: set[str] = set()
    deleted: set[str] = set()
    announced: set[str] = set()

    def record(line: str) -> None:
        if not line.endswith("\n"):
            return  # cut off by the kill: not acknowledged
        kind, _, value = line.strip().partition(" ")
        if kind == "ack":
            added.add(value)
        elif kind == "deleting":
            announced.add(value)
        elif kind == "del":
            deleted.add(value)

    for _ in range(rounds):
        process = _start(backend, options, "mixed", session_id, "k", 0, stderr=subprocess.DEVNULL)
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        for _ in range(rng.randint(1, 40)):
            record(process.stdout.readline())
        time.sleep(rng.random() * 0.003)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        for line in process.stdout:
            record(line)
        process.stdout.close()
        assert process.returncode == -signal.SIGKILL
    return added, deleted, announced - deleted


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has imported after running ``code``."""
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    return set(json.loads(result.stdout))


def _mixed(store: Any, session_id: str, tag: str, steps: int, say: Any) -> None:
    from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession

    live: list[str] = []
    step = 0
    while steps <= 0 or step < steps:
        step += 1
        if step % 7 == 0:
            started = {"started": time.time()}  # the write's time is no earlier: updated_at must cover it
            batch = [
                ConversationMessage(
                    role="user", content=f"{tag}-{step}-{part}" * 50, created_at=float(step), metadata=started
                )
                for part in range(3)
            ]
            say("batching", *(message.id for message in batch), flush=True)
            store.add_messages(session_id, batch)
            for message in batch:
                live.append(message.id)
                say("ack", message.id, flush=True)
        elif step % 11 == 0:
            store.update_session(ConversationSession(session_id=session_id, name=f"{tag}-{step}"))
        elif step % 13 == 0 and live:
            victim = live.pop(0)
            say("deleting", victim, flush=True)
            store.delete_messages(session_id, [victim])
            say("del", victim, flush=True)
        else:
            message = ConversationMessage(
                role="user", content=f"{tag}-{step}" * 40, created_at=float(step), metadata={"started": time.time()}
            )
            store.add_message(session_id, message)
            live.append(message.id)
            say("ack", message.id, flush=True)


def _main() -> None:
    from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession
    from praisonai.persistence.errors import AlreadyExistsError
    from praisonai.persistence.registry import CONVERSATION_STORES

    backend, options, mode, session_id, tag, count = sys.argv[1:7]
    store = CONVERSATION_STORES.create(backend, **json.loads(options))
    if mode == "create":
        try:
            store.create_session(ConversationSession(session_id=session_id, name=tag))
            print("created", flush=True)
        except AlreadyExistsError:
            print("exists", flush=True)
        return
    with contextlib.suppress(AlreadyExistsError):
        store.create_session(ConversationSession(session_id=session_id))
    print("ready", flush=True)
    steps = int(count)
    if mode == "append":
        for index in range(steps):
            message = ConversationMessage(role="user", content=f"{tag}-{index:05d}", created_at=1.0)
            store.add_message(session_id, message)
            print("ack", message.id, flush=True)
    elif mode == "mixed":
        _mixed(store, session_id, tag, steps, print)
    elif mode == "mixed-threads":  # four threads at once: the store groups their commits
        import threading

        print_lock = threading.Lock()

        def say(*words: str, flush: bool = True) -> None:
            with print_lock:  # print writes the line and its newline separately
                print(*words, flush=flush)

        threads = [threading.Thread(target=_mixed, args=(store, session_id, tag, steps, say)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    store.close()


if __name__ == "__main__":
    _main()
