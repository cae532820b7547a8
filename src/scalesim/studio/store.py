"""Designs, their versions and runs in a SQL database through SQLAlchemy (SQLite by default,
PostgreSQL for a shared team server). Specs are stored as the user's text, results as JSON."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    Text,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    defer,
    mapped_column,
    relationship,
    sessionmaker,
)
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import StaticPool

from scalesim.spec.text import unicode_problem

log = logging.getLogger("scalesim.studio")
ACTIVE = ("queued", "running")
T = TypeVar("T")
SAVE_ATTEMPTS = 5
"""Saves of one design at the same moment each get the next number; one that finds its
number taken (UNIQUE(design_id, number)) tries again, up to this many times."""


class NotFound(LookupError):
    """The design (or its version) is not there, or was deleted while the request ran: 404."""


class SaveConflict(RuntimeError):
    """The design changed since the version a save started from: 409."""

    def __init__(self, message: str, current: int | None) -> None:
        super().__init__(message)
        self.current = current


class SpecMismatch(RuntimeError):
    """A run names a design's version whose spec is not the one it carries: 409."""

    def __init__(self, message: str, version: int, line: int) -> None:
        super().__init__(message)
        self.version, self.line = version, line


class BadValue(ValueError):
    """A value the studio could store but not send back (JSON has no NaN, and UTF-8 no
    lone surrogates): 400 naming the field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    pass


class Design(Base):
    __tablename__ = "designs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_new_id)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now)
    versions: Mapped[list[Version]] = relationship(
        back_populates="design", cascade="all, delete-orphan", order_by="Version.number")


class Version(Base):
    __tablename__ = "versions"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    design_id: Mapped[str] = mapped_column(ForeignKey("designs.id", ondelete="CASCADE"),
                                           index=True)
    number: Mapped[int]
    spec: Mapped[str] = mapped_column(Text)
    layout: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(default=_now)
    design: Mapped[Design] = relationship(back_populates="versions")


# One version per number: two saves at once cannot both be version N. create_all makes it
# in a new database, Store._unique_versions in one made before it.
UNIQUE_NUMBERS = Index("ux_versions_design_number", Version.design_id, Version.number,
                       unique=True)


class Run(Base):
    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_new_id)
    design_id: Mapped[str | None] = mapped_column(
        ForeignKey("designs.id", ondelete="SET NULL"), index=True, nullable=True)
    version: Mapped[int | None] = mapped_column(nullable=True)
    system: Mapped[str] = mapped_column(String(200))
    spec: Mapped[str] = mapped_column(Text)
    seed: Mapped[int | None] = mapped_column(nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def summary_of(result: dict[str, Any]) -> dict[str, Any]:
    """The few numbers a list of runs shows."""
    slo = result.get("slo")
    return {"p50_ms": result["latency_ms"].get("p50"), "p99_ms": result["latency_ms"].get("p99"),
            "throughput_rps": result.get("throughput_rps"),
            "error_rate": result.get("error_rate"),
            "slo_met": None if slo is None else slo["met"]}


class Store:
    """The one place that talks SQL. Methods return plain dicts for the routes."""

    def __init__(self, url: str) -> None:
        memory = url in ("sqlite://", "sqlite:///:memory:")
        # Statement parameters (specs, results) stay out of logs and error messages.
        options: dict[str, Any] = {"hide_parameters": True}
        if url.startswith("sqlite"):
            options["connect_args"] = {"check_same_thread": False}
            if memory:
                options["poolclass"] = StaticPool
        self.engine: Engine = create_engine(url, **options)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._unique_versions()
        self._interrupted()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def _unique_versions(self) -> None:
        """UNIQUE(design_id, number) on a database made before it had one (create_all makes
        it for a new one). Versions saved at the same moment under one number (which a
        studio without it allowed) are renumbered first: the design's versions 1, 2, ... in
        the order they were saved, its runs moved with them (a run of a number saved twice
        stays with the first of the two, the version the API showed under that number)."""
        with self.session() as s:
            twice = set(s.scalars(select(Version.design_id)
                                  .group_by(Version.design_id, Version.number)
                                  .having(func.count() > 1)))
            for design_id in sorted(twice):
                versions = s.scalars(select(Version).where(Version.design_id == design_id)
                                     .order_by(Version.number, Version.id)).all()
                moved: dict[int, int] = {}
                for number, version in enumerate(versions, start=1):
                    moved.setdefault(version.number, number)
                    version.number = number
                for run in s.scalars(select(Run).where(Run.design_id == design_id)):
                    if run.version is not None:
                        run.version = moved.get(run.version, run.version)
                log.warning("design %s had versions saved at once under one number; its %d "
                            "versions are renumbered 1 to %d in the order they were saved",
                            design_id, len(versions), len(versions))
        UNIQUE_NUMBERS.create(self.engine, checkfirst=True)

    def _interrupted(self) -> None:
        """Runs left queued or running by a server that stopped will never finish."""
        with self.session() as s:
            for run in s.scalars(select(Run).where(Run.status.in_(ACTIVE))):
                run.status, run.error = "failed", "interrupted: the studio server stopped"
                run.finished_at = _now()

    # -- designs -------------------------------------------------------------------------------
    def list_designs(self) -> list[dict[str, Any]]:
        with self.session() as s:
            versions = dict(s.execute(select(Version.design_id, func.count())
                                      .group_by(Version.design_id)).all())
            runs = dict(s.execute(select(Run.design_id, func.count())
                                  .group_by(Run.design_id)).all())
            designs = s.scalars(select(Design).order_by(Design.updated_at.desc())).all()
            return [{**_design_brief(d), "versions": versions.get(d.id, 0),
                     "runs": runs.get(d.id, 0)} for d in designs]

    def create_design(self, name: str, spec: str, layout: dict[str, Any]) -> dict[str, Any]:
        layout_text = _json_text("layout", layout)
        _text("name", name)
        _text("spec", spec)
        with self.session() as s:
            design = Design(name=name)
            design.versions.append(Version(number=1, spec=spec, layout=layout_text))
            s.add(design)
            s.flush()
            return _sendable(self._design(s, design))

    def get_design(self, design_id: str) -> dict[str, Any] | None:
        with self.session() as s:
            design = s.get(Design, design_id)
            try:
                return None if design is None else self._design(s, design)
            except NotFound:  # deleted while it was read
                return None

    def update_design(self, design_id: str, name: str | None, spec: str | None,
                      layout: dict[str, Any] | None, base: int | None = None
                      ) -> dict[str, Any] | None:
        """Rename, and add a version when the spec or the layout changed; None when there is
        no such design (or it is deleted meanwhile). With `base`, the version the edit
        started from: SaveConflict when another save has made a newer one."""
        layout_text = None if layout is None else _json_text("layout", layout)
        if name is not None:
            _text("name", name)
        if spec is not None:
            _text("spec", spec)
        for _ in range(SAVE_ATTEMPTS):
            try:
                return self._update(design_id, name, spec, layout_text, base)
            except (IntegrityError, StaleDataError):
                # Another save took the number (UNIQUE), or the design was deleted.
                current = self._latest_number(design_id)
                if current is None:
                    return None
                if base is not None and base != current:
                    raise self._conflict(design_id, base, current) from None
        raise SaveConflict(f"design {design_id!r} is being saved by others at the same "
                           "moment; try again", self._latest_number(design_id))

    def _update(self, design_id: str, name: str | None, spec: str | None,
                layout_text: str | None, base: int | None) -> dict[str, Any] | None:
        with self.session() as s:
            # Saves of one design queue on its row (PostgreSQL; SQLite's writes queue anyway
            # and the unique number catches a save that read the same latest version).
            design = s.get(Design, design_id, with_for_update=True)
            latest = None if design is None else _latest(s, design_id)
            if design is None or latest is None:
                return None
            new_spec = latest.spec if spec is None else spec
            new_layout = latest.layout if layout_text is None else layout_text
            changed = (new_spec, new_layout) != (latest.spec, latest.layout)
            if base is not None and base != latest.number and (
                    changed or (name is not None and name != design.name)):
                raise self._conflict(design_id, base, latest.number, design.name)
            if name is not None:
                design.name = name
            if changed:
                s.add(Version(design_id=design_id, number=latest.number + 1, spec=new_spec,
                              layout=new_layout))
            design.updated_at = _now()
            s.flush()
            s.expire(design, ["versions"])
            return _sendable(self._design(s, design))

    def _latest_number(self, design_id: str) -> int | None:
        with self.session() as s:
            latest = _latest(s, design_id)
            return None if latest is None else latest.number

    def _conflict(self, design_id: str, base: int, current: int,
                  name: str | None = None) -> SaveConflict:
        if name is None:
            with self.session() as s:
                design = s.get(Design, design_id)
                name = design_id if design is None else design.name
        return SaveConflict(f"design {name!r} was changed by another save: it is at version "
                            f"{current}, and this save started from version {base}", current)

    def delete_design(self, design_id: str) -> bool:
        """Delete a design and (by the foreign keys' cascade) its versions; its runs stay,
        unlinked. False when there is none, or another request deleted it first."""
        with self.session() as s:
            s.execute(update(Run).where(Run.design_id == design_id).values(design_id=None))
            deleted = s.execute(delete(Design).where(Design.id == design_id))
            return cast(CursorResult[Any], deleted).rowcount > 0

    def duplicate_design(self, design_id: str) -> dict[str, Any] | None:
        with self.session() as s:
            design = s.get(Design, design_id)
            latest = None if design is None else _latest(s, design_id)
            if design is None or latest is None:  # none, or deleted while it was read
                return None
            copy = Design(name=f"{design.name} (copy)"[:200])
            copy.versions.append(Version(number=1, spec=latest.spec, layout=latest.layout))
            s.add(copy)
            s.flush()
            return _sendable(self._design(s, copy))

    def get_version(self, design_id: str, number: int) -> dict[str, Any] | None:
        with self.session() as s:
            version = s.scalars(select(Version).where(Version.design_id == design_id,
                                                      Version.number == number)
                                .order_by(Version.id)).first()
            return None if version is None else _version(version, with_text=True)

    def _design(self, s: Session, design: Design) -> dict[str, Any]:
        if not design.versions:  # its versions were deleted with it meanwhile
            raise NotFound(f"no design {design.id!r}")
        latest = design.versions[-1]
        runs = dict(s.execute(select(Run.version, func.count()).where(Run.design_id == design.id)
                              .group_by(Run.version)).all())
        return {**_design_brief(design), "spec": latest.spec, "layout": _layout(latest),
                "version": latest.number,
                "versions": [{**_version(v), "runs": runs.get(v.number, 0)}
                             for v in design.versions]}

    # -- runs ----------------------------------------------------------------------------------
    def create_run(self, system: str, spec: str, seed: int | None, design_id: str | None,
                   version: int | None) -> str:
        """Record a queued run. A run of a design is a run of one of its versions: `version`,
        or without it the latest, whose spec must be `spec` to the byte (SpecMismatch naming
        the first line that differs). NotFound when the design or the version is not there
        (or the design is deleted meanwhile)."""
        _text("spec", spec)
        try:
            with self.session() as s:
                if design_id is not None:
                    design = s.get(Design, design_id)
                    if design is None:
                        raise NotFound(f"no design {design_id!r}")
                    ran = _latest(s, design_id) if version is None else s.scalars(
                        select(Version).where(Version.design_id == design_id,
                                              Version.number == version)
                        .order_by(Version.id)).first()
                    if ran is None:
                        raise NotFound(f"design {design_id!r} has no version {version}"
                                       if version is not None else f"no design {design_id!r}")
                    if ran.spec != spec:
                        raise _mismatch(design.name, ran.number, version is None, ran.spec,
                                        spec)
                    version = ran.number
                run = Run(system=system, spec=spec, seed=seed, design_id=design_id,
                          version=version)
                s.add(run)
                s.flush()
                return run.id
        except IntegrityError:  # the design was deleted between the check and the insert
            raise NotFound(f"no design {design_id!r}") from None

    def design_exists(self, design_id: str) -> bool:
        with self.session() as s:
            return s.get(Design, design_id) is not None

    def set_status(self, run_id: str, status: str) -> None:
        with self.session() as s:
            run = s.get(Run, run_id)
            if run is not None:
                run.status = status

    def finish_run(self, run_id: str, status: str, result: dict[str, Any] | None,
                   error: str | None) -> None:
        with self.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                return
            run.status, run.error, run.finished_at = status, error, _now()
            if result is not None:
                run.result = json.dumps(result, sort_keys=True)
                run.summary = json.dumps(summary_of(result))

    def get_run(self, run_id: str, with_result: bool = True) -> dict[str, Any] | None:
        """A run, with its result when `with_result` (else the result, which can be
        megabytes, is not even read from the database)."""
        with self.session() as s:
            run = s.get(Run, run_id, options=() if with_result else (defer(Run.result),))
            if run is None:
                return None
            out = _run_brief(run)
            out["spec"] = run.spec
            if with_result and run.result is not None:
                out["result"] = json.loads(run.result)
            return out

    def list_runs(self, design_id: str | None, limit: int) -> list[dict[str, Any]]:
        with self.session() as s:
            query = select(Run).options(defer(Run.result)).order_by(
                Run.created_at.desc()).limit(limit)
            if design_id is not None:
                query = query.where(Run.design_id == design_id)
            return [_run_brief(run) for run in s.scalars(query)]


SHOWN = 60
"""Characters of a line a mismatch shows, from a little before where the lines differ."""


def _mismatch(name: str, number: int, latest: bool, stored: str, sent: str) -> SpecMismatch:
    """Where `sent` first differs from version `number`'s spec `stored`, line by line."""
    theirs, ours = stored.splitlines(keepends=True), sent.splitlines(keepends=True)
    line = next((i for i, (a, b) in enumerate(zip(theirs, ours, strict=False)) if a != b),
                min(len(theirs), len(ours)))
    if line == len(ours):
        where = f"the version goes on at line {line + 1}, where this spec ends"
    elif line == len(theirs):
        where = f"this spec goes on at line {line + 1}, where the version ends"
    else:
        a, b = theirs[line], ours[line]
        column = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                      min(len(a), len(b)))
        start = max(0, column - SHOWN // 3)
        where = (f"line {line + 1}, column {column + 1}, is {_shown(a, start)} in the version "
                 f"and {_shown(b, start)} in this spec")
    which = f"version {number}" + (" (its latest)" if latest else "")
    return SpecMismatch(f"the spec is not the one design {name!r} saved as {which}: {where}. "
                        "Send that version's spec to run it, or no design_id and version to "
                        "run this spec on its own", number, line + 1)


def _shown(line: str, start: int) -> str:
    """Up to SHOWN characters of a line from `start`, quoted with its line break and escapes
    visible, "…" marking what is left out."""
    part = line[start:start + SHOWN]
    return repr(("…" if start else "") + part + ("…" if start + SHOWN < len(line) else ""))


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _design_brief(design: Design) -> dict[str, Any]:
    return {"id": design.id, "name": design.name, "created_at": _stamp(design.created_at),
            "updated_at": _stamp(design.updated_at)}


def _version(version: Version, with_text: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"number": version.number, "created_at": _stamp(version.created_at)}
    if with_text:
        out["spec"] = version.spec
        out["layout"] = _layout(version)
    return out


def _latest(s: Session, design_id: str) -> Version | None:
    return s.scalars(select(Version).where(Version.design_id == design_id)
                     .order_by(Version.number.desc(), Version.id.desc()).limit(1)).first()


def _text(field: str, text: str) -> None:
    """BadValue unless `text` is Unicode that UTF-8 can carry (no lone surrogates)."""
    problem = unicode_problem(text)
    if problem is not None:
        raise BadValue(field, problem)


def _json_text(field: str, value: Any) -> str:
    """`value` as the JSON text stored; BadValue when it could not be sent back as JSON."""
    try:
        _sendable(value)
    except UnicodeEncodeError:
        raise BadValue(field, "has text that is not valid Unicode (a lone UTF-16 "
                              "surrogate)") from None
    except ValueError:
        raise BadValue(field, "has a number JSON cannot carry (NaN or Infinity)") from None
    return json.dumps(value)


def _sendable(value: T) -> T:
    """`value`, once it is known to serialise as a JSON response (finite numbers, UTF-8
    text). Checked before a write commits, so an answer never fails after its commit."""
    json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    return value


def _layout(version: Version) -> Any:
    """A version's layout; empty when it cannot be sent (NaN, or a lone surrogate, stored by
    a studio that did not refuse them): the canvas then lays the design out afresh."""
    try:
        return _sendable(json.loads(version.layout))
    except ValueError:  # JSONDecodeError and UnicodeEncodeError included
        log.warning("design %s version %d: its stored layout is not valid JSON to send; "
                    "sent empty", version.design_id, version.number)
        return {}


def _run_brief(run: Run) -> dict[str, Any]:
    # seed_text: the seed as its digits, which a JavaScript number past 2**53 loses.
    return {"id": run.id, "system": run.system, "status": run.status, "seed": run.seed,
            "seed_text": None if run.seed is None else str(run.seed),
            "design_id": run.design_id, "version": run.version, "error": run.error,
            "summary": None if run.summary is None else json.loads(run.summary),
            "created_at": _stamp(run.created_at), "finished_at": _stamp(run.finished_at)}
