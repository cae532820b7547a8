"""What to do with the generated files: the deploy README at the top of the output folder,
and the next steps `scalesim generate` prints.

The README is the same for a spec whatever target was generated, so generating targets one
at a time into one folder never makes it flip; each section names the folder it needs and
the target that writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from scalesim.generate import argo, chaos, helm, keda, kong
from scalesim.generate.base import GeneratedFile, GenerateOptions
from scalesim.generate.code import PYTHON
from scalesim.generate.compose import COMPOSE_FILE, entry_points
from scalesim.generate.naming import (
    HELM_RELEASE_MAX,
    HTTP_PORT,
    dns_label,
    env_name,
    release_name,
    system_label,
)
from scalesim.generate.tech import copies_note, runs_as_deployment, tech_of
from scalesim.spec.model import Kind, System

README = "README.md"


@dataclass(frozen=True)
class Entry:
    """A component outside callers reach, and an operation to try it with."""

    name: str
    operation: str


def _entries(system: System) -> list[Entry]:
    return [Entry(dns_label(name), next(iter(system.components[name].effective_operations)))
            for name in entry_points(system)]


def readme(system: System, options: GenerateOptions) -> GeneratedFile:
    """The deploy README: Compose, local processes, kubectl, Helm, Istio, Argo, Kong, KEDA."""
    components = system.components
    keda_files = keda.render(system, options)
    env = Environment(loader=PackageLoader("scalesim.generate", "templates"),
                      undefined=StrictUndefined, keep_trailing_newline=True,
                      trim_blocks=True, lstrip_blocks=True, autoescape=False)
    text = env.get_template("README.md.j2").render(
        system=system.name, chart=system_label(system.name), release=release_name(system.name),
        release_max=HELM_RELEASE_MAX,
        description=system.description, options=options, python=PYTHON, port=HTTP_PORT,
        compose_file=COMPOSE_FILE, entries=_entries(system),
        first_service=next(iter(components)),  # code/<c>/: as the spec writes the name
        stand_ins=[name for name, c in components.items() if c.kind is not Kind.SERVICE
                   and c.kind is not Kind.GATEWAY],
        images=[dns_label(name) for name, c in components.items() if runs_as_deployment(c)],
        data=[(dns_label(name), tech_of(name, c, options.image_registry).image)
              for name, c in components.items() if not runs_as_deployment(c)
              and c.kind is not Kind.EXTERNAL],
        copies=[dns_label(name) for name, c in components.items()
                if copies_note(name, c) is not None],
        secrets=[dns_label(name) for name, c in components.items()
                 if tech_of(name, c, options.image_registry).password_env
                 and not runs_as_deployment(c)],
        externals=[(dns_label(name), env_name(name, "URL")) for name, c in components.items()
                   if c.kind is Kind.EXTERNAL],
        chaos=chaos.experiments(system), helm_setting=helm.upgrade_setting(system, options),
        not_injected=chaos.not_injected(system),
        kong=bool(kong.render(system, options)), keda=bool(keda_files),
        sqs=[file.path for file in keda_files if any(
            doc["kind"] == "TriggerAuthentication" for doc in file.objects)],
        region=keda.SQS_REGION, account=keda.SQS_ACCOUNT, slo=system.slo is not None,
        unanalysed=[dns_label(name) for name, c in components.items()
                    if runs_as_deployment(c) and argo.slo_left_out(system, name)])
    return GeneratedFile(README, text)


def next_steps(system: System, paths: list[str], options: GenerateOptions,
               folder: Path) -> list[str]:
    """Commands to run next for the files just written into `folder` (paths relative to
    it), then where the README is."""
    written = {path.split("/", 1)[0] for path in paths}
    out = folder.as_posix()
    steps: list[str] = []
    if "compose" in written:
        steps.append(f"docker compose -f {out}/{COMPOSE_FILE} up --build")
        steps += [f"docker compose -f {out}/{COMPOSE_FILE} port {entry.name} {HTTP_PORT}"
                  f"   # then: curl -X POST http://localhost:PORT/{entry.operation}"
                  for entry in _entries(system)[:1]]
    elif "code" in written:
        steps.append(f"see {out}/code/README.md to run the services on this machine")
    if "k8s" in written:
        steps.append(f"kubectl apply -f {out}/k8s/namespace.yaml && kubectl apply -f {out}/k8s/")
    if "helm" in written:
        chart, release = system_label(system.name), release_name(system.name)
        cut = "" if release == chart else (f"   # the release name is the system's, cut to "
                                           f"Helm's {HELM_RELEASE_MAX} characters")
        steps.append(f"helm install {release} {out}/helm/{chart} --namespace "
                     f"{options.namespace} --create-namespace{cut}")
    # argo/ last: its HPAs and ScaledObjects, aimed at the Rollouts, replace those aimed at
    # the Deployments the Rollouts take over
    steps += [f"kubectl apply -f {out}/{target}/" for target in ("istio", "kong", "keda", "argo")
              if target in written]
    kubernetes = "k8s" in written or "helm" in written
    steps.append(f"more in {out}/{README}" + (": the images to push and the secrets to "
                                              "create first" if kubernetes else ""))
    return steps
