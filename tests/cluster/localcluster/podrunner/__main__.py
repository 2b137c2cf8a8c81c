"""`python -m localcluster.podrunner`: run the pod runner for one node until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import urllib.parse
from pathlib import Path

from lightkube import AsyncClient, KubeConfig

from ..cgroups import kill_all, root_for
from ..paths import ClusterPaths
from .images import ImageMap
from .kube import Kube
from .node import keep_alive, register
from .pod import NodeContext
from .runner import Runner


async def amain(args: argparse.Namespace) -> None:
    config = KubeConfig.from_file(args.kubeconfig)
    client = AsyncClient(config, namespace="default")
    single = config.get()
    assert single is not None
    server = urllib.parse.urlparse(single.cluster.server)
    version = args.kubelet_version
    cgroup_root = root_for(Path(args.state_dir))
    kill_all(cgroup_root)  # anything a previous run of this runner left behind
    ctx = NodeContext(
        kube=Kube(client),
        images=ImageMap.load(Path(args.image_map)),
        node=args.node_name,
        state_dir=Path(args.state_dir),
        log_dir=Path(args.log_dir),
        cgroup_root=cgroup_root,
        api_host=server.hostname or "127.0.0.1",
        api_port=server.port or 443,
        bin_path=str(ClusterPaths.default().bin),
    )
    uid = await register(client, args.node_name, version)
    runner = Runner(client, ctx)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = [
        asyncio.create_task(keep_alive(client, args.node_name, uid, version)),
        asyncio.create_task(runner.run()),
    ]
    await stop.wait()
    for t in tasks:
        t.cancel()
    with contextlib.suppress(BaseException):
        await asyncio.gather(*tasks)
    await runner.shutdown()
    kill_all(cgroup_root)


def main() -> None:
    parser = argparse.ArgumentParser(prog="podrunner")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--node-name", required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--log-dir", required=True)
    parser.add_argument("--image-map", required=True)
    parser.add_argument("--kubelet-version", default="v0.0.0-podrunner")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("httpx", "httpx2", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    asyncio.run(amain(args))


if __name__ == "__main__":
    main()
