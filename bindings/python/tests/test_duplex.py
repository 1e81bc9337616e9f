"""DuplexServer / DuplexClient: calls, several requests in flight, zero-copy handlers, a worker
pool, and the death of either side."""

from __future__ import annotations

import threading

import pytest

import shmkit

from conftest import NO_HANG, start_python


@pytest.fixture
def server(name):
    s = shmkit.DuplexServer.create(name)
    yield s
    s.close()
    for suffix in (".request", ".response"):
        try:
            shmkit.remove(name + suffix)
        except shmkit.NotFound:
            pass


def serving(server, handler, **kw):
    stop = threading.Event()
    t = threading.Thread(target=server.serve, args=(handler,), kwargs=dict(stop=stop, **kw), daemon=True)
    t.start()
    return stop, t


def test_call_returns_the_response_to_its_request(name, server):
    stop, t = serving(server, lambda request: bytes(request).upper())
    client = shmkit.DuplexClient.open(name)
    for i in range(50):
        assert client.call(b"hello %d" % i, timeout=NO_HANG) == b"HELLO %d" % i
    stop.set()
    t.join()


def test_several_requests_in_flight_are_matched_by_sequence(name, server):
    client = shmkit.DuplexClient.open(name)
    seqs = [client.send_request(b"r%d" % i) for i in range(5)]
    assert client.in_flight == 5
    with pytest.raises(shmkit.Busy):
        client.call(b"x", timeout=0.1)
    taken = []
    for _ in range(5):
        request, seq = server._receive_request(NO_HANG)
        taken.append((seq, bytes(request)))
        del request
        server._release_request()
    for seq, data in reversed(taken):  # answered last first
        server.respond(seq, b"answer to " + data)
    got = dict(client.receive_response(NO_HANG)[::-1] for _ in range(5))
    assert got == {seq: b"answer to r%d" % i for i, seq in enumerate(seqs)}
    assert client.in_flight == 0


def test_a_handler_writes_its_response_in_place(name, server):
    def handler(request, reserve):
        out = reserve(len(request))
        out[:] = request[::-1]
        return len(request)

    stop, t = serving(server, handler, in_place=True)
    client = shmkit.DuplexClient.open(name)
    assert client.call(b"abcdef", timeout=NO_HANG) == b"fedcba"
    stop.set()
    t.join()


def test_a_worker_pool_answers_out_of_order_and_clients_match(name, server):
    release = threading.Event()

    def handler(request):
        if bytes(request) == b"slow":
            release.wait(NO_HANG)
        return b"done " + bytes(request)

    stop, t = serving(server, handler, workers=2)
    client = shmkit.DuplexClient.open(name)
    slow = client.send_request(b"slow")
    fast = client.send_request(b"fast")
    data, seq = client.receive_response(NO_HANG)
    assert (data, seq) == (b"done fast", fast)  # the slow one is still being served
    release.set()
    assert client.receive_response(NO_HANG) == (b"done slow", slow)
    stop.set()
    t.join()


SERVER_THAT_DIES = """
import sys, shmkit
s = shmkit.DuplexServer.create(sys.argv[1], liveness_period=0.02)
print("ready", flush=True)
def handler(request):
    if bytes(request) == b"die":
        import os; os._exit(0)
    return bytes(request)
s.serve(handler)
"""


def test_a_server_that_dies_raises_server_dead(name):
    child = start_python(SERVER_THAT_DIES, name)
    try:
        assert child.stdout.readline().strip() == "ready"
        client = shmkit.DuplexClient.open(name, liveness_period=0.02)
        assert client.call(b"echo", timeout=NO_HANG) == b"echo"
        with pytest.raises(shmkit.ServerDead) as info:
            client.call(b"die")  # no timeout: only the death ends it
        assert isinstance(info.value, shmkit.PeerDead)
        assert not client.server_connected
    finally:
        child.kill()
        child.wait()
        for suffix in (".request", ".response"):
            try:
                shmkit.remove(name + suffix)
            except shmkit.NotFound:
                pass


CLIENT_THAT_DIES = """
import os, sys, shmkit
c = shmkit.DuplexClient.open(sys.argv[1])
c.send_request(b"orphan")
os._exit(0)
"""


def test_the_next_client_gets_only_its_own_responses(name, server):
    child = start_python(CLIENT_THAT_DIES, name)
    child.wait()
    stop, t = serving(server, lambda request: b"for " + bytes(request))
    client = shmkit.DuplexClient.open(name)
    assert client.call(b"me", timeout=NO_HANG) == b"for me"
    stop.set()
    t.join()
