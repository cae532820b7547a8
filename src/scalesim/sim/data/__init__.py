"""Data mechanisms off the request path: message delivery (queues, Kafka consumer groups,
dead letters), sagas, the transactional outbox and event stores. Each is an `Area` (see
`scalesim.sim.area`) or a step the kernel runs at a named point; `build.py` makes them from
the spec and `report.py` turns them into results."""
