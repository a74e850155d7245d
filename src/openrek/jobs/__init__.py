"""Training jobs outside the request path: a durable queue in the database and a local process pool."""
