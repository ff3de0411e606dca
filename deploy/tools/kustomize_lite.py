#!/usr/bin/env python3
"""Render a kustomization without kubectl or kustomize.

Implements only the subset of kustomize that deploy/k8s uses, and refuses
anything else, so a manifest change that needs real kustomize fails loudly
here instead of rendering differently:

  resources   local files (multi-document YAML) and local directories
  namespace   sets metadata.namespace; renames the Namespace object, as
              kustomize does
  images      name -> newName / newTag / digest, on every containers[] and
              initContainers[] list
  replicas    name -> count, on Deployment / StatefulSet / ReplicaSet
  patches     strategic merge patches (one object per entry, `path` or
              inline `patch`, no `target`), lists merged by the Kubernetes
              patch merge keys for the fields we use (containers by name,
              env by name, volumes by name, volumeMounts by mountPath, ...)

Transformers run in kustomize's order: patches, namespace, replicas, images.

Usage: kustomize_lite.py DIR        prints the rendered YAML stream
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

SUPPORTED_FIELDS = {"apiVersion", "kind", "namespace", "resources", "images", "replicas", "patches"}

# Kinds that must not receive metadata.namespace (Namespace itself is renamed).
CLUSTER_SCOPED = {
    "APIService",
    "ClusterIssuer",
    "ClusterRole",
    "ClusterRoleBinding",
    "CSIDriver",
    "CustomResourceDefinition",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "PersistentVolume",
    "PriorityClass",
    "RuntimeClass",
    "StorageClass",
    "ValidatingWebhookConfiguration",
}

# Kinds whose namespace-bearing fields (subjects[].namespace, ...) kustomize
# also rewrites; not implemented, so refuse them.
NAMESPACE_REFERENCING = {"RoleBinding", "ClusterRoleBinding", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}

REPLICA_KINDS = {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}

# kustomize's "legacy" output order (kinds not listed go in between, sorted
# by group, version, kind).
ORDER_FIRST = [
    "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition",
    "ServiceAccount", "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding",
    "ClusterRoleBinding", "ConfigMap", "Secret", "Endpoints", "Service",
    "LimitRange", "PriorityClass", "PersistentVolume", "PersistentVolumeClaim",
    "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget",
]
ORDER_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]


class KustomizeLiteError(Exception):
    pass


def _fail(msg: str) -> None:
    raise KustomizeLiteError(msg)


def _rid(res: dict) -> str:
    meta = res.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{res.get('kind')}/{meta.get('name')}" + (f" (namespace {ns})" if ns else "")


def _group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def load_documents(path: Path) -> list[dict]:
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except yaml.YAMLError as exc:
        _fail(f"{path}: not valid YAML: {exc}")
    for doc in docs:
        if not isinstance(doc, dict):
            _fail(f"{path}: every document must be a mapping")
        if doc.get("kind", "").endswith("List"):
            _fail(f"{path}: `kind: {doc['kind']}` is not supported by kustomize-lite")
        for field in ("apiVersion", "kind"):
            if not isinstance(doc.get(field), str) or not doc[field]:
                _fail(f"{path}: a document has no {field}")
        if not isinstance(doc.get("metadata"), dict) or not doc["metadata"].get("name"):
            _fail(f"{path}: {doc['kind']} without metadata.name")
    return docs


def _kustomization_file(directory: Path) -> Path:
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    _fail(f"{directory}: no kustomization.yaml")
    raise AssertionError  # unreachable


# --------------------------------------------------------------------------
# strategic merge patch
# --------------------------------------------------------------------------

def _merge_key(kind: str, path: tuple[str, ...], field: str) -> str | None:
    """Patch merge key of a list field, or None when the list is replaced."""
    if field in ("containers", "initContainers", "ephemeralContainers", "env", "volumes",
                 "imagePullSecrets"):
        return "name"
    if field == "volumeMounts":
        return "mountPath"
    if field == "ports":
        if kind == "Service" and path == ("spec",):
            return "port"
        return "containerPort"
    if field == "topologySpreadConstraints":
        return "topologyKey"
    return None


def strategic_merge(kind: str, base: dict, patch: dict, path: tuple[str, ...] = ()) -> None:
    for field, value in patch.items():
        if isinstance(field, str) and field.startswith("$"):
            _fail(f"patch directive {field} at {'.'.join(path) or '<root>'} is not supported by kustomize-lite")
        if value is None:
            base.pop(field, None)
            continue
        current = base.get(field)
        if isinstance(value, dict) and isinstance(current, dict):
            strategic_merge(kind, current, value, path + (field,))
        elif isinstance(value, list) and isinstance(current, list) and _merge_key(kind, path, field):
            key = _merge_key(kind, path, field)
            for item in value:
                if not isinstance(item, dict) or key not in item:
                    _fail(f"patch list {'.'.join(path + (field,))} needs `{key}` in every item")
                if "$patch" in item:
                    _fail("`$patch` directives are not supported by kustomize-lite")
                match = next((b for b in current if isinstance(b, dict) and b.get(key) == item[key]), None)
                if match is None:
                    current.append(copy.deepcopy(item))
                else:
                    strategic_merge(kind, match, item, path + (field,))
        else:
            base[field] = copy.deepcopy(value)


def apply_patch(resources: list[dict], entry: Any, directory: Path) -> None:
    if not isinstance(entry, dict):
        _fail(f"{directory}: a patches entry must be a mapping")
    unsupported = set(entry) - {"path", "patch"}
    if unsupported:
        _fail(f"{directory}: patches[].{sorted(unsupported)[0]} is not supported by kustomize-lite")
    if ("path" in entry) == ("patch" in entry):
        _fail(f"{directory}: a patches entry needs exactly one of `path` and `patch`")
    if "path" in entry:
        source = directory / entry["path"]
        if not source.is_file():
            _fail(f"{directory}: patch file {entry['path']} not found")
        text, where = source.read_text(), str(source)
    else:
        text, where = entry["patch"], f"{directory} (inline patch)"
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    if len(docs) != 1:
        _fail(f"{where}: a patch holds exactly one object (kustomize `patches` takes one per entry)")
    patch = docs[0]
    if isinstance(patch, list):
        _fail(f"{where}: JSON 6902 patches are not supported by kustomize-lite")
    if not isinstance(patch, dict) or not patch.get("kind") or not (patch.get("metadata") or {}).get("name"):
        _fail(f"{where}: a strategic merge patch needs kind and metadata.name")
    name = patch["metadata"]["name"]
    namespace = patch["metadata"].get("namespace")
    targets = [
        r for r in resources
        if r["kind"] == patch["kind"]
        and r["metadata"]["name"] == name
        and _group(r["apiVersion"]) == _group(patch.get("apiVersion", r["apiVersion"]))
        and (namespace is None or r["metadata"].get("namespace") == namespace)
    ]
    if not targets:
        _fail(f"{where}: no resource {patch['kind']}/{name} to patch")
    if len(targets) > 1:
        _fail(f"{where}: {patch['kind']}/{name} matches {len(targets)} resources")
    body = {k: v for k, v in patch.items() if k not in ("apiVersion", "kind")}
    body["metadata"] = {k: v for k, v in patch["metadata"].items() if k not in ("name", "namespace")}
    if not body["metadata"]:
        del body["metadata"]
    strategic_merge(patch["kind"], targets[0], body)


# --------------------------------------------------------------------------
# namespace / replicas / images
# --------------------------------------------------------------------------

def apply_namespace(resources: list[dict], namespace: str) -> None:
    for res in resources:
        if res["kind"] in NAMESPACE_REFERENCING:
            _fail(f"{_rid(res)}: namespace rewriting for {res['kind']} is not supported by kustomize-lite")
        if res["kind"] == "Namespace":
            res["metadata"]["name"] = namespace
        elif res["kind"] not in CLUSTER_SCOPED:
            res["metadata"]["namespace"] = namespace


def apply_replicas(resources: list[dict], entries: Any, directory: Path) -> None:
    if not isinstance(entries, list):
        _fail(f"{directory}: replicas must be a list")
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != {"name", "count"}:
            _fail(f"{directory}: replicas entries take exactly `name` and `count`")
        if not isinstance(entry["count"], int) or entry["count"] < 0:
            _fail(f"{directory}: replicas count for {entry['name']} must be a non-negative integer")
        hits = [r for r in resources if r["kind"] in REPLICA_KINDS and r["metadata"]["name"] == entry["name"]]
        if not hits:
            _fail(f"{directory}: replicas: no workload named {entry['name']}")
        for res in hits:
            res.setdefault("spec", {})["replicas"] = entry["count"]


def split_image(image: str) -> tuple[str, str | None, str | None]:
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    name, tag = image, None
    colon = image.rfind(":")
    if colon > image.rfind("/"):
        name, tag = image[:colon], image[colon + 1:]
    return name, tag, digest


def _containers(node: Any):
    """Every containers[] / initContainers[] item anywhere in a resource."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        yield item
            else:
                yield from _containers(value)
    elif isinstance(node, list):
        for value in node:
            yield from _containers(value)


def apply_images(resources: list[dict], entries: Any, directory: Path) -> None:
    if not isinstance(entries, list):
        _fail(f"{directory}: images must be a list")
    for entry in entries:
        if not isinstance(entry, dict) or "name" not in entry:
            _fail(f"{directory}: images entries need `name`")
        extra = set(entry) - {"name", "newName", "newTag", "digest"}
        if extra:
            _fail(f"{directory}: images[].{sorted(extra)[0]} is not supported by kustomize-lite")
        for res in resources:
            for container in _containers(res):
                image = container.get("image")
                if not isinstance(image, str):
                    continue
                name, tag, digest = split_image(image)
                if name != entry["name"]:
                    continue
                name = entry.get("newName", name)
                if "newTag" in entry:
                    tag, digest = str(entry["newTag"]), None
                if "digest" in entry:
                    tag, digest = None, str(entry["digest"])
                container["image"] = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


# --------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------

def build(directory: Path, _stack: tuple[Path, ...] = ()) -> list[dict]:
    directory = directory.resolve()
    if directory in _stack:
        _fail(f"{directory}: kustomization cycle")
    kfile = _kustomization_file(directory)
    try:
        kust = yaml.safe_load(kfile.read_text()) or {}
    except yaml.YAMLError as exc:
        _fail(f"{kfile}: not valid YAML: {exc}")
    if not isinstance(kust, dict):
        _fail(f"{kfile}: must be a mapping")
    if kust.get("kind", "Kustomization") != "Kustomization":
        _fail(f"{kfile}: kind {kust.get('kind')} is not supported by kustomize-lite")
    unsupported = set(kust) - SUPPORTED_FIELDS
    if unsupported:
        _fail(f"{kfile}: field(s) {', '.join(sorted(unsupported))} not supported by kustomize-lite; "
              "render with kustomize/kubectl or extend deploy/tools/kustomize_lite.py")

    resources: list[dict] = []
    for ref in kust.get("resources") or []:
        if not isinstance(ref, str) or "://" in ref or ref.startswith(("github.com/", "git@")):
            _fail(f"{kfile}: resource {ref!r}: only local files and directories are supported")
        target = directory / ref
        if target.is_dir():
            resources.extend(build(target, _stack + (directory,)))
        elif target.is_file():
            resources.extend(load_documents(target))
        else:
            _fail(f"{kfile}: resource {ref} not found")

    for entry in kust.get("patches") or []:
        apply_patch(resources, entry, directory)
    if kust.get("namespace"):
        apply_namespace(resources, kust["namespace"])
    if "replicas" in kust:
        apply_replicas(resources, kust["replicas"], directory)
    if "images" in kust:
        apply_images(resources, kust["images"], directory)

    seen: set[tuple] = set()
    for res in resources:
        key = (_group(res["apiVersion"]), res["kind"], res["metadata"].get("namespace"), res["metadata"]["name"])
        if key in seen:
            _fail(f"{kfile}: duplicate resource {_rid(res)}")
        seen.add(key)
    return resources


def _order(res: dict) -> tuple:
    kind = res["kind"]
    if kind in ORDER_FIRST:
        rank = (0, ORDER_FIRST.index(kind), "")
    elif kind in ORDER_LAST:
        rank = (2, ORDER_LAST.index(kind), "")
    else:
        rank = (1, 0, f"{_group(res['apiVersion'])}_{res['apiVersion'].rsplit('/', 1)[-1]}_{kind}")
    return rank + (res["metadata"].get("namespace") or "", res["metadata"]["name"])


def render(directory: Path) -> list[dict]:
    return sorted(build(directory), key=_order)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        resources = render(Path(argv[1]))
    except KustomizeLiteError as exc:
        print(f"kustomize-lite: {exc}", file=sys.stderr)
        return 1
    yaml.safe_dump_all(resources, sys.stdout, sort_keys=False, default_flow_style=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
