"""Jobs outside the request path: a durable queue in the database, the `JobRunner` interface and the
local process pool that implements it."""
