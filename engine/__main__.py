"""Command line: python -m engine list | train | warmup | eval | jobs | cancel | proxy-config | worker."""
import argparse
import json
import sys
import time

from engine import api, jobs, registry, store, worker
from engine.data import DataError
from engine.device import configure_threads, get_device, keep_freed_memory
from engine.registry import PRESETS


class ProgressBar:
    """On a terminal, redraw the bar at every report; in a log, write one line each time a new tenth is reached
    (reports come every few steps, so a tenth's exact step may never be reported)."""

    def __init__(self):
        self.tenths = -1

    def __call__(self, p) -> None:
        tty = sys.stderr.isatty()
        tenths = 10 * p.step // p.total
        if not tty and tenths == self.tenths and p.step != p.total:
            return
        self.tenths = tenths
        width = 30
        done = int(width * p.step / p.total)
        sys.stderr.write(f"{chr(13) if tty else ''}  [{'#' * done}{'.' * (width - done)}] {p.step}/{p.total}  "
                         f"loss {p.loss:.4f}  eta {p.eta:5.0f}s ")
        if p.step == p.total or not tty:
            sys.stderr.write("\n")
        sys.stderr.flush()


def cmd_list(args) -> int:
    rows = []
    for spec in registry.list_models():
        config = spec.config(args.preset)
        ckpt, errors = store.find(spec.name, config)
        rows.append({"name": spec.name, "title": spec.title, "page": spec.page, "presets": list(spec.presets),
                     "config_hash": registry.config_hash(spec.name, config),
                     "stored": ckpt.source if ckpt else ("damaged" if errors else None)})
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for r in rows:
            print(f"{r['name']:18} {r['page']:12} {args.preset}:{r['config_hash']}  {r['stored'] or '-':8} {r['title']}")
    return 0


def _train_one(name: str, preset: str, config, ship: bool) -> None:
    print(f"{name} [{preset}] {registry.config_hash(name, config)} on {get_device()}", file=sys.stderr)
    ckpt = api.train_and_save(name, config, ProgressBar(),
                              on_phase=lambda phase: print(f"  {phase}", file=sys.stderr))
    print(f"  saved {ckpt.path} in {ckpt.train_seconds:.0f}s", file=sys.stderr)
    if ship:
        print(f"  shipped {store.ship(ckpt, preset).path}", file=sys.stderr)


def overrides(name: str, preset: str, pairs: list[str] | None) -> dict:
    """--set FIELD=VALUE pairs as config overrides, each value read as the type of the preset's own value."""
    defaults = registry.config_dict(registry.get(name).config(preset))
    out = {}
    for pair in pairs or []:
        field, sep, text = pair.partition("=")
        if not sep or field not in defaults:
            raise ValueError(f"--set takes FIELD=VALUE with a field of {name}: {', '.join(defaults)}")
        kind = type(defaults[field])
        if kind is bool:
            if text.lower() not in ("true", "false"):
                raise ValueError(f"--set {field}= takes true or false")
            out[field] = text.lower() == "true"
            continue
        try:
            out[field] = kind(text)
        except ValueError:
            raise ValueError(f"--set {field}= takes a {kind.__name__}, not {text!r}") from None
    return out


def cmd_train(args) -> int:
    config = api.config(args.name, args.preset, **overrides(args.name, args.preset, args.set))
    _train_one(args.name, args.preset, config, args.ship)
    return 0


def cmd_warmup(args) -> int:
    """Train every registered model (and shipped variant) that has no stored checkpoint for the preset: one after
    another here, or all at once as jobs on the Ray cluster when PLAYGROUND_RAY_ADDRESS is set."""
    todo = []
    for spec in registry.list_models():
        if args.models and spec.name not in args.models:
            continue
        for config in spec.configs(args.preset):
            label = f"{spec.name} {registry.config_hash(spec.name, config)}"
            ckpt, _ = store.find(spec.name, config)
            if ckpt is None:
                todo.append((spec, config))
            elif args.ship and ckpt.source == "cached":
                store.ship(ckpt, args.preset)
                print(f"{label}: shipped the cached checkpoint", file=sys.stderr)
            else:
                print(f"{label}: already stored ({ckpt.source})", file=sys.stderr)
    unknown = set(args.models or ()) - {spec.name for spec in registry.list_models()}
    if unknown:
        raise ValueError(f"unknown models: {', '.join(sorted(unknown))}")
    if api.jobs_backend() is not jobs:
        return _warmup_as_jobs(todo, args.preset, args.ship)
    for spec, config in todo:
        _train_one(spec.name, args.preset, config, args.ship)
    return 0


class JobBoard:
    """Many jobs' progress in one display: on a terminal, one line per job redrawn in place; in a log, a line each
    time a job changes state or passes a tenth of its steps."""

    def __init__(self, keys: list[str]):
        self.keys = keys
        self.drawn = 0
        self.seen: dict[str, tuple] = {}

    @staticmethod
    def line(key: str, job) -> str:
        if job is None:
            return f"{key:34} waiting for the models it needs"
        width = 20
        done = int(width * min(job.fraction, 1.0))
        text = f"{key:34} {job.state:9} [{'#' * done}{'.' * (width - done)}] {job.step}/{job.total}"
        if job.active and job.eta is not None and job.state == "running":
            text += f" eta {job.eta:.0f}s"
        return text + f"  {job.error or job.phase}"

    def draw(self, jobs_now: dict) -> None:
        lines = [self.line(key, jobs_now.get(key)) for key in self.keys]
        if sys.stderr.isatty():
            sys.stderr.write(f"\x1b[{self.drawn}F" if self.drawn else "")
            sys.stderr.write("".join(f"\x1b[2K{text}\n" for text in lines))
            self.drawn = len(lines)
        else:
            for key, text in zip(self.keys, lines):
                job = jobs_now.get(key)
                mark = (job.state, int(10 * job.fraction)) if job else None
                if self.seen.get(key) != mark:
                    self.seen[key] = mark
                    sys.stderr.write(text + "\n")
        sys.stderr.flush()


def _warmup_as_jobs(todo: list, preset: str, ship: bool, poll: float = 1.0) -> int:
    """Start every model of `todo` as a training job at once (a model whose judge is also in `todo` waits for it),
    show their progress together, then each one's wall time. Returns 1 when any failed."""
    keys = {jobs.job_key(spec.name, config): (spec, config) for spec, config in todo}
    board = JobBoard(list(keys))
    asked: dict[str, float] = {}
    ended: dict[str, tuple] = {}
    while len(ended) < len(keys):
        for key, (spec, config) in keys.items():
            needs = {jobs.job_key(dep, registry.get(dep).config(dep_preset))
                     for dep, dep_preset in spec.requires(config).items()}
            if key not in asked and not any(dep in keys and dep not in ended for dep in needs):
                try:
                    api.start_job(spec.name, config)
                except api.QueueFull:
                    continue                 # the queue is full: asked again at the next poll
                asked[key] = time.monotonic()
        now = {key: api.job_status(keys[key][0].name, keys[key][1]) for key in asked}
        for key, job in now.items():
            if key not in ended and job is not None and not job.active:
                ended[key] = (job, time.monotonic() - asked[key])
                if ship and job.state == "done":
                    store.ship(store.find(keys[key][0].name, keys[key][1])[0], preset)
        board.draw(now)
        if len(ended) < len(keys):
            time.sleep(poll)
    print(f"\n{'model':34} {'state':9} {'wall s':>8} {'training s':>10}  where", file=sys.stderr)
    for key, (job, wall) in ended.items():
        print(f"{key:34} {job.state:9} {wall:8.1f} {job.elapsed:10.1f}  {job.where}{'  ' + job.error if job.error else ''}",
              file=sys.stderr)
    return 1 if any(job.state != "done" for job, _ in ended.values()) else 0


def cmd_eval(args) -> int:
    config = api.config(args.name, args.preset, **overrides(args.name, args.preset, args.set))
    metrics, ckpt = api.evaluate(args.name, config)
    out = dict(metrics, checkpoint={"name": ckpt.name, "preset": args.preset, "config_hash": ckpt.config_hash,
                                    "source": ckpt.source, "path": str(ckpt.path)})
    if args.json:
        print(json.dumps(out, sort_keys=True))
    else:
        for key, value in out.items():
            print(f"{key}: {value}")
    return 0


def cmd_jobs(args) -> int:
    rows = api.all_jobs()
    if args.json:
        print(json.dumps([{k: v for k, v in vars(j).items() if k != "history"} for j in rows], indent=1))
        return 0
    for j in rows:
        eta = f"eta {j.eta:.0f}s" if j.eta is not None and j.active else ""
        if j.waiting:
            eta = f"#{j.position} in the queue" + (f", starts in about {j.starts_in:.0f}s" if j.starts_in else "")
        where = f"on {j.where}" if j.where and j.active else ""
        print(f"{j.key:32} {j.state:9} {j.step}/{j.total} {j.phase} {eta} {where} {j.error}")
    if not rows:
        print("no jobs")
    return 0


def cmd_cancel(args) -> int:
    config = api.config(args.name, args.preset)
    if not api.jobs_backend().cancel(args.name, config):
        raise RuntimeError(f"no running job for {args.name} [{args.preset}]")
    print("cancel requested", file=sys.stderr)
    return 0


HAPROXY = """\
# HAProxy in front of {count} playground web servers (python -m engine proxy-config).
# Sticky sessions: a browser tab keeps one websocket to one server, and its uploads must reach that server too, so
# the first response sets a cookie naming the server and every later request goes where the cookie says.
global
    maxconn 4096
defaults
    mode http
    option forwardfor
    # Each message sent as soon as it is written (a rerun's last small websocket message waited otherwise).
    option http-no-delay
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
frontend playground
    bind {listen}
    default_backend streamlit
backend streamlit
    balance leastconn
    cookie PLAYGROUND_SERVER insert indirect nocache httponly
    option httpchk GET /_stcore/health
{servers}
"""


def proxy_config(listen: str, servers: list[str]) -> str:
    """HAProxy's configuration for web servers at host:port addresses behind one address."""
    for address in [listen, *servers]:
        host, sep, port = address.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"{address!r} is not HOST:PORT")
    lines = [f"    server web{i} {address} check cookie web{i}" for i, address in enumerate(servers, 1)]
    return HAPROXY.format(count=len(servers), listen=listen, servers="\n".join(lines))


def cmd_proxy_config(args) -> int:
    print(proxy_config(args.listen, args.servers), end="")
    return 0


def cmd_worker(args) -> int:
    return worker.run(args.folder)


SET_HELP = "change one config field of the preset (repeatable), e.g. --set photos=/data/Flickr8k"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m engine", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    preset = {"choices": PRESETS, "default": "cpu", "help": "tiny (tests), cpu (shipped), gpu (paper scale)"}
    s = sub.add_parser("list", help="registered models and where their checkpoints are")
    s.add_argument("--preset", **preset)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list)
    s = sub.add_parser("train", help="train one model (and what it needs) into the cache")
    s.add_argument("name")
    s.add_argument("--preset", **preset)
    s.add_argument("--ship", action="store_true", help="also copy it into assets/checkpoints and the manifest")
    s.add_argument("--set", action="append", metavar="FIELD=VALUE", help=SET_HELP)
    s.set_defaults(func=cmd_train)
    s = sub.add_parser("warmup", help="train every model not yet stored for the preset")
    s.add_argument("--preset", **preset)
    s.add_argument("--ship", action="store_true", help="ship every model of the preset")
    s.add_argument("--models", nargs="+", metavar="NAME", help="only these models (default: every one)")
    s.set_defaults(func=cmd_warmup)
    s = sub.add_parser("eval", help="recompute held-out metrics from the stored checkpoint")
    s.add_argument("name")
    s.add_argument("--preset", **preset)
    s.add_argument("--json", action="store_true")
    s.add_argument("--set", action="append", metavar="FIELD=VALUE", help=SET_HELP)
    s.set_defaults(func=cmd_eval)
    s = sub.add_parser("jobs", help="training jobs and their progress")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_jobs)
    s = sub.add_parser("cancel", help="cancel a running training job")
    s.add_argument("name")
    s.add_argument("--preset", **preset)
    s.set_defaults(func=cmd_cancel)
    s = sub.add_parser("proxy-config", help="HAProxy's configuration for several web servers behind one address")
    s.add_argument("--listen", default="0.0.0.0:8080", help="HOST:PORT the class opens (default 0.0.0.0:8080)")
    s.add_argument("--servers", nargs="+", required=True, metavar="HOST:PORT", help="the web servers")
    s.set_defaults(func=cmd_proxy_config)
    s = sub.add_parser("worker", help=argparse.SUPPRESS)
    s.add_argument("folder")
    s.set_defaults(func=cmd_worker)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.command not in ("worker",):
        configure_threads("command")
        keep_freed_memory()            # the commands that train do it in this process
    try:
        return args.func(args)
    except (KeyError, ValueError, RuntimeError, DataError, api.NotTrained, store.CheckpointError,
            api.JobsUnavailable) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
