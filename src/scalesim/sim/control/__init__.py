"""Control loops: replica sets, autoscalers (HPA, KEDA), rollouts and their analysis, and the
cluster's nodes. Each is an area (`scalesim.sim.area.Area`) that runs per period on windowed
metrics, never per request."""
