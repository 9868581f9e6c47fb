"""Writers that kill themselves halfway, for the crash tests: run in a child process, a script that starts with
PREAMBLE and sets `kill_at` has every os.replace and shutil.rmtree counted, and SIGKILLs itself in place of the
kill_at-th one (0: never)."""

PREAMBLE = """
import os, shutil, signal, sys
from pathlib import Path

calls = 0

def dying(real):
    def call(*args, **kwargs):
        global calls
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return call

os.replace, shutil.rmtree = dying(os.replace), dying(shutil.rmtree)
"""
