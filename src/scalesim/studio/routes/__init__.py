"""One router per resource of the studio's HTTP API."""
