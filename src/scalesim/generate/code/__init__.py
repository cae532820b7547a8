"""`--target code`: a runnable FastAPI service per component, under `code/<component>/`.

Each service gets app.py (its operations, with the spec's numbers as literals), the shared
runtime modules (samplers, resilience mechanisms, calls, serving, the settings file, the
app's life cycle, telemetry; the same text in every service, from one template each),
requirements.txt, a Dockerfile and a README.
Next to the folders: a README for the whole system, and the ruff settings that lint each
service's modules as its own top-level modules.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined

from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.code.literals import python
from scalesim.generate.code.views import ServiceView, services
from scalesim.spec.model import System

PYTHON = "3.11"  # the Python the services run on: the Dockerfile's image, the README's venv
SHARED = ("dists.py", "resilience.py", "downstream.py", "server.py", "settings.py",
          "service.py", "telemetry.py")
PER_SERVICE = ("app.py", "requirements.txt", "Dockerfile", "README.md")


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("scalesim.generate.code", "templates"),
                      undefined=StrictUndefined, keep_trailing_newline=True,
                      trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["python"] = python
    env.filters["capitalize_first"] = lambda text: text[:1].upper() + text[1:]
    return env


def render(system: System, options: GenerateOptions) -> list[GeneratedFile]:
    """Every file of the code target, paths relative to the output folder."""
    env = _environment()
    views = services(system)
    sagas = ("saga.py",) if any(view.has_saga for view in views) else ()
    modules = sorted(name.removesuffix(".py")
                     for name in (*SHARED, "broker.py", *sagas, "app.py"))
    files = [GeneratedFile("code/README.md", env.get_template("index.md.j2").render(
        system=system.name, services=views, python=PYTHON)),
             GeneratedFile("code/ruff.toml", env.get_template("ruff.toml.j2").render(
                 modules=modules))]
    for view in views:
        files += _service_files(env, system.name, view, options)
    return files


def _optional(view: ServiceView) -> tuple[str, ...]:
    return (("broker.py",) if view.is_queue else ()) + (("saga.py",) if view.has_saga else ())


def _service_files(env: Environment, system: str, view: ServiceView,
                   options: GenerateOptions) -> list[GeneratedFile]:
    names = SHARED + _optional(view) + PER_SERVICE
    return [GeneratedFile(f"code/{view.name}/{name}", env.get_template(f"{name}.j2").render(
        service=view, system=system, registry=options.image_registry, python=PYTHON))
        for name in names]
