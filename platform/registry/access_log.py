"""Access logs name the route, never the query string: a client may still put personal data in a URL."""
import logging

ACCESS_LOGGER = "uvicorn.access"


class QueryStringRedaction(logging.Filter):
    """Replace the query of the logged path (uvicorn's third argument) with `?…`."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?…", *args[3:])
        return True


def redact_access_log_queries() -> None:
    """Install the redaction once per process, whichever app or server starts first."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, QueryStringRedaction) for f in logger.filters):
        logger.addFilter(QueryStringRedaction())
