"""Entry point of ``kubectl-scribe`` (console script) and ``python -m scribe_operator.cli``."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

from scribe_operator.cli.args import parse_args
from scribe_operator.cli.cluster import CliError, connect
from scribe_operator.cli.commands import run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        api = connect(args.kubeconfig, args.context)
        return run(args, api, datetime.now(UTC), sys.stdout, sys.stderr)
    except CliError as exc:
        for line in str(exc).splitlines():
            sys.stderr.write(f"error: {line}\n")
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `kubectl scribe dead -A | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
