"""The collector's malloc settings: a process reading large worker results through a pipe
(what the collector does for every ingest batch) reuses its memory instead of taking fresh
pages for each one. Counted in page faults, which do not depend on the machine's speed."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from shadowmap.collector import malloc_tuning

# Reads 100 results of 300 KB from a child process, as the parse pool's reader does, and
# prints the minor page faults the reading took (after one read to warm up).
READER = textwrap.dedent("""
    import multiprocessing, resource, sys
    from shadowmap.collector import malloc_tuning

    def child(conn):
        result = b"x" * 300_000
        for _ in range(101):
            conn.send_bytes(result)

    if __name__ == "__main__":
        if sys.argv[1] == "tuned":
            assert malloc_tuning.tune()
        reader, writer = multiprocessing.Pipe(duplex=False)
        process = multiprocessing.get_context("fork").Process(target=child, args=(writer,))
        process.start()
        reader.recv_bytes()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(100):
            reader.recv_bytes()
        print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
        process.join()
""")


def faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", READER, mode], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_large_results_reuse_memory_once_tuned():
    untuned, tuned = faults("untuned"), faults("tuned")
    assert untuned > 100 * 50  # fresh pages for every result (about 130 each on this project's machine)
    assert tuned < 100 * 5, (untuned, tuned)


def test_tuning_is_refused_quietly_where_there_is_no_glibc(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert malloc_tuning.tune() is False
