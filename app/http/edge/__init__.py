"""What every request meets before a route: body and rate limits, write slots, headers, logs, metrics."""
