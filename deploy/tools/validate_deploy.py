#!/usr/bin/env python3
"""Validate deploy/: Kubernetes manifests (rendered per kustomization) and the
docker compose file. Run through deploy/validate.sh, which provides the
Python packages (kubernetes-validate, PyYAML, optionally compose-spec).

Kubernetes, for deploy/k8s/base and every deploy/k8s/overlays/*:
  1. render (kustomize or `kubectl kustomize` when installed, otherwise
     kustomize_lite.py next to this file);
  2. every object against the Kubernetes OpenAPI schema (strict: unknown
     fields are errors) for each requested Kubernetes version, from the
     schemas bundled in the kubernetes-validate wheel (no network);
  3. the CloudNativePG Cluster (a CRD, no bundled schema) by hand;
  4. cross-references the schema cannot see: selectors, named ports,
     ConfigMap/Secret keys, HPA targets, PodDisruptionBudgets, hardening,
     and chiso's own rules (a single aggregation replica, database URLs).
Compose (deploy/compose.yaml):
  5. structure and references: image/build, depends_on targets and
     conditions, cycles, named volumes, ${VARS} documented in .env.example;
  6. the Compose specification itself via the compose-spec package when it
     is installed (it ships native wheels for common platforms only).

Exit status 0 when everything passes, 1 on any error.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable

import yaml

sys.dont_write_bytecode = True  # no __pycache__ inside the repository
sys.path.insert(0, str(Path(__file__).resolve().parent))
import kustomize_lite  # noqa: E402

try:
    import kubernetes_validate
    import kubernetes_validate.utils as kv_utils
except ImportError:  # pragma: no cover - validate.sh installs it
    sys.exit("validate_deploy: kubernetes-validate is not installed; run deploy/validate.sh")

# The bundled schema files are re-read for every object otherwise.
kv_utils.schema_contents = functools.lru_cache(maxsize=None)(kv_utils.schema_contents)


class Report:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, where: str, msg: str) -> None:
        self.errors.append(f"{where}: {msg}")

    def warn(self, where: str, msg: str) -> None:
        self.warnings.append(f"{where}: {msg}")


def rid(res: dict) -> str:
    return f"{res.get('kind')}/{(res.get('metadata') or {}).get('name')}"


def walk_get(node: Any, *path: str, default: Any = None) -> Any:
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


# ==========================================================================
# Kubernetes
# ==========================================================================

def render(directory: Path, renderer: str, report: Report, label: str) -> list[dict] | None:
    """Render one kustomization; returns None (and records why) on failure."""
    if renderer == "auto":
        renderer = "kustomize" if shutil.which("kustomize") else "kubectl" if shutil.which("kubectl") else "lite"
    if renderer == "lite":
        try:
            return kustomize_lite.render(directory)
        except kustomize_lite.KustomizeLiteError as exc:
            report.error(label, f"render failed: {exc}")
            return None
    cmd = ["kustomize", "build", str(directory)] if renderer == "kustomize" else ["kubectl", "kustomize", str(directory)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        report.error(label, f"`{' '.join(cmd)}` failed: {proc.stderr.strip()}")
        return None
    rendered = [d for d in yaml.safe_load_all(proc.stdout) if d]
    # Keep the fallback renderer honest whenever the real one is available.
    try:
        key = lambda r: (r["kind"], r["metadata"].get("namespace") or "", r["metadata"]["name"])  # noqa: E731
        real = {key(r): r for r in rendered}
        lite = {key(r): r for r in kustomize_lite.render(directory)}
        differing = sorted("/".join(k) for k in set(real) | set(lite) if real.get(k) != lite.get(k))
        if differing:
            report.warn(label, f"kustomize_lite.py renders differently from {renderer} for: {', '.join(differing)}")
    except kustomize_lite.KustomizeLiteError as exc:
        report.warn(label, f"kustomize_lite.py cannot render this: {exc}")
    return rendered


def schema_check(resources: list[dict], versions: list[str], report: Report, label: str) -> int:
    checked = 0
    for res in resources:
        if res.get("apiVersion") == "postgresql.cnpg.io/v1":
            continue  # CRD: checked by cnpg_check
        for version in versions:
            try:
                kubernetes_validate.validate(res, version, strict=True)
                checked += 1
            except kubernetes_validate.ValidationError as exc:
                path = ".".join(str(p) for p in exc.path) or "<root>"
                report.error(f"{label} {rid(res)}", f"Kubernetes {exc.version} schema: {path}: {exc.message}")
            except kubernetes_validate.SchemaNotFoundError as exc:
                report.error(f"{label} {rid(res)}", f"no schema: {exc.message}")
            except kv_utils.VersionNotSupportedError:
                report.error(label, f"kubernetes-validate has no schemas for Kubernetes {version}")
                return checked
    return checked


QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")


def cnpg_check(resources: list[dict], report: Report, label: str) -> None:
    by_kind_name = {(r["kind"], r["metadata"]["name"]): r for r in resources}
    for res in resources:
        if res.get("apiVersion", "").startswith("postgresql.cnpg.io/"):
            where = f"{label} {rid(res)}"
            if res["apiVersion"] != "postgresql.cnpg.io/v1":
                report.error(where, f"unexpected apiVersion {res['apiVersion']}")
            if res.get("kind") != "Cluster":
                report.error(where, f"unexpected CloudNativePG kind {res.get('kind')}")
                continue
            spec = res.get("spec")
            if not isinstance(spec, dict):
                report.error(where, "spec is missing")
                continue
            instances = spec.get("instances")
            if not isinstance(instances, int) or isinstance(instances, bool) or instances < 1:
                report.error(where, "spec.instances must be an integer >= 1")
            elif instances < 3:
                report.warn(where, f"spec.instances is {instances}: fewer than 3 gives no quorum for failover")
            size = walk_get(spec, "storage", "size")
            if not isinstance(size, str) or not QUANTITY.match(size):
                report.error(where, "spec.storage.size must be a quantity such as 20Gi")
            params = walk_get(spec, "postgresql", "parameters", default={}) or {}
            for key, value in params.items():
                if not isinstance(value, str):
                    report.error(where, f"spec.postgresql.parameters.{key} must be a string (got {value!r})")
            initdb = walk_get(spec, "bootstrap", "initdb")
            if isinstance(initdb, dict):
                for field in ("database", "owner"):
                    if not isinstance(initdb.get(field), str):
                        report.error(where, f"spec.bootstrap.initdb.{field} must be set")
                secret_name = walk_get(initdb, "secret", "name")
                if secret_name:
                    secret = by_kind_name.get(("Secret", secret_name))
                    if secret is None:
                        report.error(where, f"bootstrap secret {secret_name} is not among the rendered objects")
                    else:
                        if secret.get("type") != "kubernetes.io/basic-auth":
                            report.error(where, f"Secret {secret_name} must have type kubernetes.io/basic-auth")
                        data = secret_values(secret)
                        if data.get("username") != initdb.get("owner"):
                            report.error(where, f"Secret {secret_name} username must equal initdb.owner "
                                         f"({initdb.get('owner')!r})")
                        if not data.get("password"):
                            report.error(where, f"Secret {secret_name} has no password")


def secret_values(secret: dict) -> dict[str, str]:
    """stringData values as-is; data values are base64 and only their keys matter here."""
    values = {k: "<base64>" for k in (secret.get("data") or {})}
    values.update({k: str(v) for k, v in (secret.get("stringData") or {}).items()})
    return values


def config_keys(res: dict) -> set[str]:
    if res["kind"] == "Secret":
        return set(res.get("data") or {}) | set(res.get("stringData") or {})
    return set(res.get("data") or {}) | set(res.get("binaryData") or {})


def labels_match(selector: dict | None, labels: dict | None) -> bool:
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def pod_spec(res: dict) -> dict | None:
    if res["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return walk_get(res, "spec", "template", "spec")
    if res["kind"] == "CronJob":
        return walk_get(res, "spec", "jobTemplate", "spec", "template", "spec")
    if res["kind"] == "Pod":
        return res.get("spec")
    return None


def all_containers(spec: dict) -> Iterable[dict]:
    yield from spec.get("initContainers") or []
    yield from spec.get("containers") or []


def cross_check(resources: list[dict], report: Report, label: str) -> None:
    idx: dict[tuple[str, str], dict] = {(r["kind"], r["metadata"]["name"]): r for r in resources}
    workloads = [r for r in resources if pod_spec(r) is not None]

    # --- one namespace for everything -----------------------------------
    namespaces = {r["metadata"]["name"] for r in resources if r["kind"] == "Namespace"}
    for res in resources:
        if res["kind"] in kustomize_lite.CLUSTER_SCOPED or res["kind"] == "Namespace":
            continue
        ns = res["metadata"].get("namespace")
        if not ns:
            report.error(f"{label} {rid(res)}", "no metadata.namespace after rendering")
        elif namespaces and ns not in namespaces:
            report.error(f"{label} {rid(res)}", f"namespace {ns} is not the rendered Namespace {sorted(namespaces)}")

    # --- workloads -------------------------------------------------------
    for res in workloads:
        where = f"{label} {rid(res)}"
        spec = pod_spec(res) or {}
        tmpl_labels = walk_get(res, "spec", "template", "metadata", "labels", default={})
        if res["kind"] != "Pod":
            selector = walk_get(res, "spec", "selector", "matchLabels")
            if not labels_match(selector, tmpl_labels):
                report.error(where, "spec.selector.matchLabels does not match the pod template labels")
        if spec.get("enableServiceLinks") is not False:
            report.error(where, "enableServiceLinks must be false (Service env vars carry the CHISO_ prefix)")
        psc = spec.get("securityContext") or {}
        if psc.get("runAsNonRoot") is not True:
            report.error(where, "pod securityContext.runAsNonRoot must be true")
        if walk_get(psc, "seccompProfile", "type") != "RuntimeDefault":
            report.error(where, "pod securityContext.seccompProfile.type must be RuntimeDefault")

        volumes = {v.get("name"): v for v in spec.get("volumes") or []}
        for vol in volumes.values():
            if "secret" in vol:
                ref = idx.get(("Secret", vol["secret"].get("secretName")))
                if ref is None:
                    report.error(where, f"volume {vol['name']}: Secret {vol['secret'].get('secretName')} not found")
                else:
                    for item in vol["secret"].get("items") or []:
                        if item.get("key") not in config_keys(ref):
                            report.error(where, f"volume {vol['name']}: Secret {rid(ref)} has no key {item.get('key')}")
            if "configMap" in vol:
                if ("ConfigMap", vol["configMap"].get("name")) not in idx:
                    report.error(where, f"volume {vol['name']}: ConfigMap {vol['configMap'].get('name')} not found")

        for c in all_containers(spec):
            cw = f"{where} container {c.get('name')}"
            image = c.get("image", "")
            _, tag, digest = kustomize_lite.split_image(image)
            if not (tag or digest) or tag == "latest":
                report.error(cw, f"image {image!r} needs a pinned tag or digest")
            res_ = c.get("resources") or {}
            for need in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory")):
                if not walk_get(res_, *need):
                    report.error(cw, f"resources.{'.'.join(need)} is not set")
            csc = c.get("securityContext") or {}
            if csc.get("readOnlyRootFilesystem") is not True:
                report.error(cw, "securityContext.readOnlyRootFilesystem must be true")
            if csc.get("allowPrivilegeEscalation") is not False:
                report.error(cw, "securityContext.allowPrivilegeEscalation must be false")
            if "ALL" not in (walk_get(csc, "capabilities", "drop", default=[]) or []):
                report.error(cw, "securityContext.capabilities.drop must include ALL")
            if c in (spec.get("containers") or []):
                for probe in ("livenessProbe", "readinessProbe"):
                    if probe not in c:
                        report.error(cw, f"{probe} is missing")
            port_names = {p.get("name") for p in c.get("ports") or [] if p.get("name")}
            port_numbers = {p.get("containerPort") for p in c.get("ports") or []}
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                p = c.get(probe) or {}
                for handler in ("httpGet", "tcpSocket", "grpc"):
                    port = walk_get(p, handler, "port")
                    if isinstance(port, str) and port not in port_names:
                        report.error(cw, f"{probe}.{handler}.port {port!r} is not a named container port")
                    if isinstance(port, int) and port not in port_numbers:
                        report.error(cw, f"{probe}.{handler}.port {port} is not a declared container port")
            for ef in c.get("envFrom") or []:
                for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                    if key in ef and (kind, ef[key].get("name")) not in idx and not ef[key].get("optional"):
                        report.error(cw, f"envFrom {kind} {ef[key].get('name')} not found")
            names_seen: set[str] = set()
            for env in c.get("env") or []:
                if env.get("name") in names_seen:
                    report.error(cw, f"env {env.get('name')} is set twice")
                names_seen.add(env.get("name"))
                for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                    ref = walk_get(env, "valueFrom", key)
                    if not ref or ref.get("optional"):
                        continue
                    target = idx.get((kind, ref.get("name")))
                    if target is None:
                        report.error(cw, f"env {env['name']}: {kind} {ref.get('name')} not found")
                    elif ref.get("key") not in config_keys(target):
                        report.error(cw, f"env {env['name']}: {kind} {ref.get('name')} has no key {ref.get('key')}")
            for mount in c.get("volumeMounts") or []:
                if mount.get("name") not in volumes:
                    report.error(cw, f"volumeMount {mount.get('name')} has no matching volume")

    # --- Services --------------------------------------------------------
    for svc in (r for r in resources if r["kind"] == "Service"):
        where = f"{label} {rid(svc)}"
        selector = walk_get(svc, "spec", "selector")
        if not selector:
            continue  # selector-less Services are legitimate (external endpoints)
        backends = [w for w in workloads
                    if labels_match(selector, walk_get(w, "spec", "template", "metadata", "labels"))]
        if not backends:
            report.error(where, f"selector {selector} matches no workload")
            continue
        for port in walk_get(svc, "spec", "ports", default=[]) or []:
            target = port.get("targetPort", port.get("port"))
            for w in backends:
                declared = [p for c in (pod_spec(w) or {}).get("containers") or [] for p in c.get("ports") or []]
                if isinstance(target, str) and target not in {p.get("name") for p in declared}:
                    report.error(where, f"targetPort {target!r} is not a named port of {rid(w)}")
                if isinstance(target, int) and target not in {p.get("containerPort") for p in declared}:
                    report.error(where, f"targetPort {target} is not a container port of {rid(w)}")

    # --- HPAs ------------------------------------------------------------
    hpa_targets: dict[str, dict] = {}
    for hpa in (r for r in resources if r["kind"] == "HorizontalPodAutoscaler"):
        where = f"{label} {rid(hpa)}"
        ref = walk_get(hpa, "spec", "scaleTargetRef", default={})
        target = idx.get((ref.get("kind"), ref.get("name")))
        if target is None:
            report.error(where, f"scaleTargetRef {ref.get('kind')}/{ref.get('name')} not found")
            continue
        hpa_targets[target["metadata"]["name"]] = hpa
        lo, hi = walk_get(hpa, "spec", "minReplicas", default=1), walk_get(hpa, "spec", "maxReplicas")
        if hi is not None and lo > hi:
            report.error(where, f"minReplicas {lo} > maxReplicas {hi}")
        replicas = walk_get(target, "spec", "replicas", default=1)
        if replicas != lo:
            # Above the floor, the HPA scales it back down; below, every apply
            # briefly shrinks the Deployment until the HPA catches up.
            report.error(where, f"minReplicas {lo} differs from {rid(target)} replicas {replicas}; keep them equal")
        uses_cpu = any(walk_get(m, "resource", "name") == "cpu" for m in walk_get(hpa, "spec", "metrics", default=[]) or [])
        if uses_cpu:
            for c in (pod_spec(target) or {}).get("containers") or []:
                if not walk_get(c, "resources", "requests", "cpu"):
                    report.error(where, f"CPU utilisation target needs resources.requests.cpu on {c.get('name')}")

    # --- PodDisruptionBudgets --------------------------------------------
    covered: set[str] = set()
    for pdb in (r for r in resources if r["kind"] == "PodDisruptionBudget"):
        where = f"{label} {rid(pdb)}"
        selector = walk_get(pdb, "spec", "selector", "matchLabels")
        matched = [w for w in workloads
                   if labels_match(selector, walk_get(w, "spec", "template", "metadata", "labels"))]
        if len(matched) != 1:
            report.error(where, f"selector matches {len(matched)} workloads (expected exactly one)")
            continue
        target = matched[0]
        covered.add(target["metadata"]["name"])
        min_available = walk_get(pdb, "spec", "minAvailable")
        replicas = walk_get(target, "spec", "replicas", default=1)
        if target["metadata"]["name"] in hpa_targets:
            replicas = max(replicas, walk_get(hpa_targets[target["metadata"]["name"]], "spec", "minReplicas", default=1))
        if isinstance(min_available, int) and min_available >= replicas:
            report.error(where, f"minAvailable {min_available} >= {replicas} replica(s) of {rid(target)}: "
                         "no pod could ever be evicted, node drains would hang")
    for w in workloads:
        if w["kind"] == "Deployment" and w["metadata"]["name"] not in covered:
            report.error(f"{label} {rid(w)}", "no PodDisruptionBudget selects this Deployment")

    # --- chiso rules ------------------------------------------------------
    agg = idx.get(("Deployment", "chiso-aggregation"))
    if agg is None:
        report.error(label, "Deployment chiso-aggregation is missing")
    else:
        where = f"{label} {rid(agg)}"
        if walk_get(agg, "spec", "replicas", default=1) != 1:
            report.error(where, "must run exactly 1 replica (single feed consumer)")
        if walk_get(agg, "spec", "strategy", "type") != "Recreate":
            report.error(where, "strategy must be Recreate (never two feed followers during a rollout)")
        if "chiso-aggregation" in hpa_targets:
            report.error(where, "must not be autoscaled (single feed consumer)")
    clusters = [r["metadata"]["name"] for r in resources if r["kind"] == "Cluster"]
    db = idx.get(("Secret", "chiso-db"))
    if db is not None and clusters:
        for key, url in secret_values(db).items():
            if url == "<base64>":
                continue
            host = re.sub(r"^[a-z]+://(?:[^@/]*@)?([^:/?]+).*$", r"\1", url)
            if host != f"{clusters[0]}-rw":
                report.error(f"{label} {rid(db)}", f"{key} points at {host!r}, expected the read-write "
                             f"Service {clusters[0]}-rw")
    placeholders = [r["metadata"]["name"] for r in resources
                    if r["kind"] == "Secret" and any("REPLACE" in v for v in secret_values(r).values())]
    if placeholders:
        report.warn(label, f"example Secrets with REPLACE placeholders (fine for validation, not for a "
                    f"cluster): {', '.join(placeholders)}")


# ==========================================================================
# Compose
# ==========================================================================

INTERPOLATION = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def compose_variables(node: Any) -> dict[str, bool]:
    """Variables referenced anywhere in the file -> whether one use is required (:? / ?)."""
    found: dict[str, bool] = {}
    if isinstance(node, dict):
        for k, v in node.items():
            for name, req in compose_variables(v).items():
                found[name] = found.get(name, False) or req
    elif isinstance(node, list):
        for v in node:
            for name, req in compose_variables(v).items():
                found[name] = found.get(name, False) or req
    elif isinstance(node, str):
        for m in INTERPOLATION.finditer(node):
            name = m.group(2) or m.group(5)
            if name:
                found[name] = found.get(name, False) or (m.group(3) or "").endswith("?")
            if m.group(4):
                for inner, req in compose_variables(m.group(4)).items():
                    found[inner] = found.get(inner, False) or req
    return found


def interpolate(node: Any, env: dict[str, str]) -> Any:
    """Compose-style ${VAR}, ${VAR:-default}, ${VAR:?error}, $$ substitution."""
    def sub(text: str) -> str:
        def one(m: re.Match) -> str:
            if m.group(1):
                return "$"
            name = m.group(2) or m.group(5)
            op, arg = m.group(3), sub(m.group(4) or "")
            value = env.get(name)
            if op == ":-":
                return value if value else arg
            if op == "-":
                return value if value is not None else arg
            if op == ":+":
                return arg if value else ""
            if op == "+":
                return arg if value is not None else ""
            if op in (":?", "?"):
                if value is None or (op == ":?" and value == ""):
                    raise ValueError(f"required variable {name} is unset: {arg}")
                return value
            return value or ""
        return INTERPOLATION.sub(one, text)

    if isinstance(node, dict):
        return {k: interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env) for v in node]
    if isinstance(node, str):
        return sub(node)
    return node


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip().strip("'\"")
    return values


def compose_check(compose_path: Path, env_example: Path, report: Report, use_spec: str) -> list[str]:
    where = str(compose_path.name)
    try:
        doc = yaml.safe_load(compose_path.read_text())
    except yaml.YAMLError as exc:
        report.error(where, f"not valid YAML: {exc}")
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict) or not doc["services"]:
        report.error(where, "no `services` mapping")
        return []
    services: dict[str, Any] = doc["services"]
    declared_volumes = set((doc.get("volumes") or {}).keys())
    published: dict[str, str] = {}

    for name, svc in services.items():
        sw = f"{where} service {name}"
        if not isinstance(svc, dict):
            report.error(sw, "must be a mapping")
            continue
        if not svc.get("image") and not svc.get("build"):
            report.error(sw, "has neither `image` nor `build`")
        build = svc.get("build")
        if build:
            context = compose_path.parent / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            if not context.is_dir():
                report.error(sw, f"build context {context} does not exist")
            elif not (context / dockerfile).is_file():
                report.error(sw, f"Dockerfile {dockerfile} not found in build context {context}")
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):
            deps = {d: {"condition": "service_started"} for d in deps}
        if not isinstance(deps, dict):
            report.error(sw, "depends_on must be a list or a mapping")
            deps = {}
        for dep, spec in deps.items():
            if dep not in services:
                report.error(sw, f"depends_on names unknown service {dep!r}")
                continue
            if dep == name:
                report.error(sw, "depends on itself")
            condition = (spec or {}).get("condition", "service_started")
            if condition not in CONDITIONS:
                report.error(sw, f"depends_on {dep}: unknown condition {condition!r}")
            target = services[dep] if isinstance(services[dep], dict) else {}
            if condition == "service_healthy":
                hc = target.get("healthcheck") or {}
                if not hc or hc.get("disable") or (hc.get("test") in (["NONE"], "NONE")):
                    report.error(sw, f"waits for {dep} to be healthy, but {dep} has no healthcheck")
            if condition == "service_completed_successfully" and target.get("restart", "no") not in ("no", "on-failure"):
                report.error(sw, f"waits for {dep} to complete, but {dep} has restart: {target.get('restart')} "
                             "(it would be restarted after exiting)")
        hc = svc.get("healthcheck")
        if isinstance(hc, dict) and "test" in hc:
            test = hc["test"]
            if isinstance(test, list) and (not test or test[0] not in ("CMD", "CMD-SHELL", "NONE")):
                report.error(sw, "healthcheck.test list must start with CMD, CMD-SHELL or NONE")
        env = svc.get("environment")
        if isinstance(env, dict):
            for key, value in env.items():
                if isinstance(value, (dict, list)):
                    report.error(sw, f"environment {key} must be a scalar")
        for vol in svc.get("volumes") or []:
            source = vol.get("source") if isinstance(vol, dict) else str(vol).split(":", 1)[0]
            vtype = vol.get("type", "volume") if isinstance(vol, dict) else "volume"
            if (source and vtype == "volume" and not source.startswith(("/", ".", "~", "$"))
                    and source not in declared_volumes):
                report.error(sw, f"named volume {source!r} is not declared under top-level volumes")
            if source and source.startswith(".") and not (compose_path.parent / source).exists():
                report.error(sw, f"bind-mount source {source} does not exist")
        for port in svc.get("ports") or []:
            host = str(port).rsplit(":", 1)[0] if ":" in str(port) else None
            if host:
                if host in published:
                    report.error(sw, f"host port {host} is also published by {published[host]}")
                published[host] = name

    # dependency cycles
    graph = {n: set((s.get("depends_on") or {}) if isinstance(s, dict) else ()) for n, s in services.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                report.error(where, "depends_on cycle: " + " -> ".join(trail + [node, nxt]))
            elif nxt in graph and not state.get(nxt):
                visit(nxt, trail + [node])
        state[node] = 2

    for node in graph:
        if not state.get(node):
            visit(node, [])

    # every variable the file uses must be documented in .env.example
    variables = compose_variables(doc)
    documented = read_env_file(env_example)
    if not env_example.is_file():
        report.error(where, f"{env_example.name} is missing (documents the variables)")
    for var in sorted(variables):
        if var not in documented:
            report.error(where, f"${{{var}}} is used but not listed in {env_example.name}")

    # the Compose specification itself
    spec_checked: list[str] = []
    if use_spec != "off":
        try:
            from compose_spec import PyCompose  # type: ignore
        except ImportError:
            msg = "compose-spec package not installed (no wheel for this platform?): schema check skipped"
            (report.error if use_spec == "required" else report.warn)(where, msg)
        else:
            # Values as a user would have them: .env.example, required blanks filled.
            env = {k: (v or "example-value") for k, v in documented.items()}
            try:
                resolved = interpolate(doc, env)
                PyCompose.from_json(json.dumps(resolved))
                spec_checked.append("compose-spec")
            except Exception as exc:  # noqa: BLE001 - native extension errors
                # Positions refer to the interpolated JSON, not to the file.
                message = re.sub(r" at line \d+ column \d+$", "", str(exc))
                report.error(where, f"Compose specification: {message}")
    return spec_checked


# ==========================================================================

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True, help="repository root")
    parser.add_argument("--k8s-version", action="append", default=[],
                        help="Kubernetes version(s) to validate against; 'latest' = newest bundled schema")
    parser.add_argument("--renderer", choices=["auto", "lite", "kustomize", "kubectl"], default="auto")
    parser.add_argument("--compose-spec", choices=["auto", "required", "off"], default="auto")
    args = parser.parse_args()

    deploy = args.root / "deploy"
    versions = [kv_utils.latest_version() if v == "latest" else v
                for spec in (args.k8s_version or ["1.30"]) for v in re.split(r"[,\s]+", spec) if v]
    versions = list(dict.fromkeys(versions))
    report = Report()

    targets = [deploy / "k8s" / "base"] + sorted(
        p for p in (deploy / "k8s" / "overlays").glob("*") if (p / "kustomization.yaml").is_file())
    renderer = args.renderer
    if renderer == "auto":
        renderer = "kustomize" if shutil.which("kustomize") else "kubectl" if shutil.which("kubectl") else "lite"
    shown = renderer if renderer == "lite" else f"{renderer}, kustomize_lite.py cross-checked"
    print(f"==> Kubernetes manifests (renderer: {shown}; schemas: Kubernetes {', '.join(versions)}, "
          f"kubernetes-validate {kubernetes_validate.__version__}, strict)")
    for target in targets:
        label = str(target.relative_to(args.root))
        resources = render(target, renderer, report, label)
        if resources is None:
            print(f"  FAIL {label}: could not render")
            continue
        before = len(report.errors)
        checked = schema_check(resources, versions, report, label)
        cnpg_check(resources, report, label)
        cross_check(resources, report, label)
        kinds: dict[str, int] = {}
        for r in resources:
            kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
        status = "ok  " if len(report.errors) == before else "FAIL"
        print(f"  {status} {label}: {len(resources)} objects ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}); "
              f"{checked} schema validations")

    compose = deploy / "compose.yaml"
    print("==> Compose file")
    before = len(report.errors)
    extra = compose_check(compose, deploy / ".env.example", report, args.compose_spec)
    status = "ok  " if len(report.errors) == before else "FAIL"
    print(f"  {status} {compose.relative_to(args.root)}: structure, references, variables"
          + (f"; {', '.join(extra)} schema" if extra else ""))

    for w in report.warnings:
        print(f"WARN  {w}")
    for e in report.errors:
        print(f"ERROR {e}")
    if report.errors:
        print(f"validate: {len(report.errors)} error(s)")
        return 1
    print(f"validate: all checks passed ({len(report.warnings)} warning(s))")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    sys.exit(main())
