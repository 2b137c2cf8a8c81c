"""`python -m localcluster up|down|status|images|check-clean|operator-start|operator-stop`."""

from __future__ import annotations

import argparse
import json
import sys

from .controlplane import Cluster


def main() -> None:
    parser = argparse.ArgumentParser(prog="localcluster", description=__doc__)
    parser.add_argument(
        "command", choices=["up", "down", "status", "images", "check-clean", "operator-start", "operator-stop"]
    )
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
    elif args.command == "images":
        cluster.images()
    elif args.command == "check-clean":
        left = cluster.leftovers()
        for item in left:
            print(f"left behind by the local cluster: {item}", file=sys.stderr)
        sys.exit(1 if left else 0)
    else:
        print(json.dumps(cluster.status(), indent=2))


if __name__ == "__main__":
    main()
