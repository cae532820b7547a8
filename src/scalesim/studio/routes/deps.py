"""What routes get from the application: the store and the run manager."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from scalesim.studio.runner import RunManager
from scalesim.studio.store import Store


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _runs(request: Request) -> RunManager:
    runs: RunManager = request.app.state.runs
    return runs


StoreDep = Annotated[Store, Depends(_store)]
RunsDep = Annotated[RunManager, Depends(_runs)]
