"""app.ui.resources.one_at_a_time: reruns filling the same cache entry at once compute it once."""
import threading
import time

from app.ui import resources


def test_the_same_entry_is_computed_once_while_others_wait():
    cache, computed = {}, []

    def rerun(key: str) -> None:
        with resources.one_at_a_time(key):
            if key not in cache:
                computed.append(key)
                time.sleep(0.05)                   # a chart being built
                cache[key] = len(computed)

    threads = [threading.Thread(target=rerun, args=("scatter:king",)) for _ in range(8)]
    threads += [threading.Thread(target=rerun, args=("scatter:queen",)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(computed) == ["scatter:king", "scatter:queen"]
