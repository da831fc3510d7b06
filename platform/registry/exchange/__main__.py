"""`python -m registry.exchange exchange-hub|exchange-worker`: settings from FSP_* variables, served by uvicorn.

On SIGTERM (or SIGINT) uvicorn stops accepting requests and finishes those in flight; the app's shutdown stops the
worker's loop after its current request; the process then exits with status 0.
"""
import argparse
import logging
import signal
import sys

import uvicorn

from registry.config import Settings
from registry.exchange.processes import ConfigurationError, create_hub_app, create_worker_app
from registry.exchange.signing import SigningKeyError

BUILDERS = {"exchange-hub": create_hub_app, "exchange-worker": create_worker_app}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m registry.exchange",
                                     description="Run the ministry's exchange hub or a province's exchange worker.")
    parser.add_argument("component", choices=sorted(BUILDERS), help="which exchange process to run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings()
        app = BUILDERS[args.component](settings)
    except (ConfigurationError, SigningKeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it to the handler found at start: make that
    # handler a no-op, so a requested stop ends with status 0 rather than "killed by SIGTERM"
    signal.signal(signal.SIGTERM, lambda *_: None)
    uvicorn.run(app, host=settings.exchange_host, port=settings.exchange_port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
