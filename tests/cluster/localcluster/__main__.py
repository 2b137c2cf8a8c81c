"""`python -m localcluster up|down|status|env`."""

from __future__ import annotations

import argparse
import json

from .controlplane import Cluster


def main() -> None:
    parser = argparse.ArgumentParser(prog="localcluster", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "operator-start", "operator-stop"])
    args = parser.parse_args()
    cluster = Cluster()
    if args.command == "up":
        cluster.up()
    elif args.command == "operator-start":
        cluster.operator_start()
    elif args.command == "operator-stop":
        cluster.operator_stop()
    elif args.command == "down":
        cluster.down()
    else:
        print(json.dumps(cluster.status(), indent=2))


if __name__ == "__main__":
    main()
