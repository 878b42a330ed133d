"""A class on one server: many sessions opening the Sandbox at once (a benchmark, not a test).

    .venv/bin/python -m tests.e2e.bench_classroom [--sizes 1,5,10,20] [--replications 100]

Starts its own server and talks to it as browsers do, over Streamlit's WebSocket protocol, but draws
nothing: the numbers are the server's and its process pool's, not a browser's (each student's browser
runs on their own machine). Each session asks for the Sandbox and the clock stops when the server
reports the script finished; a page that showed an exception, an error, a warning or no KPI tiles
stops the benchmark with what it showed.

For each class size it measures two openings:

* **same** — every student opens the same scenario at once (the usual start of a lesson): the first
  session computes it, the others wait for the same cached result;
* **different** — every student runs a different seed at once (everyone pressing Run on their own
  settings): the runs queue on the one process pool.

Prints, per size and opening, the median and slowest session time and the wall time, in seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import statistics
import tempfile
import time
from pathlib import Path

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from app.state import MAX_APP_REPLICATIONS

from .server import streamlit_server

TILES = 6  # the Sandbox's KPI tiles: a page without them did not show a run
SESSION_TIMEOUT_S = 600


class PageError(RuntimeError):
    """A session's page did not show a run; the message says what it showed instead."""


async def open_sandbox(url: str, query: str) -> float:
    """Open the Sandbox with ``query`` as a new session; seconds until its script finished.

    Raises:
        PageError: the page showed an exception, an error or a warning (a bad query falls back to
            defaults with a warning), or no KPI tiles.
    """
    start = time.perf_counter()
    stream = url.replace("http://", "ws://") + "/_stcore/stream"
    tiles = 0
    async with (
        asyncio.timeout(SESSION_TIMEOUT_S),
        websockets.connect(stream, subprotocols=["streamlit"], max_size=None) as ws,
    ):
        msg = BackMsg()
        msg.rerun_script.query_string = query
        await ws.send(msg.SerializeToString())
        while True:
            reply = ForwardMsg()
            reply.ParseFromString(await ws.recv())
            kind = reply.WhichOneof("type")
            if kind == "delta" and reply.delta.WhichOneof("type") == "new_element":
                element = reply.delta.new_element
                shown = element.WhichOneof("type")
                tiles += shown == "metric"
                if shown == "exception" or (
                    shown == "alert" and element.alert.format in (Alert.ERROR, Alert.WARNING)
                ):
                    text = element.exception.message if shown == "exception" else element.alert.body
                    shown_text = html.unescape(text).replace("\u2060", "")[:200]
                    raise PageError(f"{query!r}: the page showed {shown} {shown_text!r}")
            elif kind == "script_finished":
                if reply.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY or tiles < TILES:
                    raise PageError(f"{query!r}: the script ended with {tiles} KPI tiles shown")
                return time.perf_counter() - start


async def a_class(url: str, queries: list[str]) -> dict:
    start = time.perf_counter()
    times = await asyncio.gather(*(open_sandbox(url, q) for q in queries))
    return {
        "sessions": len(queries),
        "median_s": round(statistics.median(times), 3),
        "slowest_s": round(max(times), 3),
        "wall_s": round(time.perf_counter() - start, 3),
    }


async def measure(url: str, sizes: list[int], replications: int) -> dict:
    await open_sandbox(url, f"reps={replications}&seed=1")  # imports, pool, first run
    seed = 1000
    out: dict = {"replications": replications, "same": [], "different": []}
    for size in sizes:
        seed += 1  # a scenario nobody has opened yet, then the same one for everyone
        out["same"].append(await a_class(url, [f"reps={replications}&seed={seed}"] * size))
        queries = [f"reps={replications}&seed={seed + 1 + i}" for i in range(size)]
        seed += size + 1
        out["different"].append(await a_class(url, queries))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,10,20", help="class sizes, comma-separated")
    parser.add_argument("--replications", type=int, default=100)
    args = parser.parse_args()
    if not 1 <= args.replications <= MAX_APP_REPLICATIONS:
        parser.error(
            f"--replications {args.replications}: the app runs 1 to {MAX_APP_REPLICATIONS}"
        )
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        try:
            with streamlit_server(log) as url:
                print(json.dumps(asyncio.run(measure(url, sizes, args.replications)), indent=2))
        except (PageError, TimeoutError):
            print("The server's log ends:\n" + "\n".join(log.read_text().splitlines()[-20:]))
            raise


if __name__ == "__main__":
    main()
