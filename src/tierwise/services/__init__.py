"""Use cases shared by every edge (CLI, REST API, dashboard): the only place that orchestrates a run."""
