#!/usr/bin/env python3
"""chiso's own deployment rules, which no schema knows: a Deployment's replicas
equal its HPA's minReplicas; exactly one aggregation replica with strategy
Recreate and no HPA (one feed consumer); containers non-root; images pinned
(no `latest`, no untagged); in compose, every ${VAR} is in .env.example.
--self-test breaks a copy of the files once per rule and expects each break
to be reported, so no rule can silently stop checking."""
import argparse
import copy
import json
import re
import sys
from pathlib import Path

import yaml


def pinned(image):
    # A registry port has a colon too: the tag is after the last slash.
    tail = str(image).rsplit("/", 1)[-1]
    return "@" in tail or (":" in tail and not tail.endswith(":latest"))


def k8s_errors(objects):
    errors, by_name = [], {(o["kind"], o["metadata"]["name"]): o for o in objects}
    autoscaled = set()
    for hpa in (o for o in objects if o["kind"] == "HorizontalPodAutoscaler"):
        ref, floor = hpa["spec"]["scaleTargetRef"], hpa["spec"].get("minReplicas", 1)
        autoscaled.add(ref["name"])
        target = by_name.get((ref["kind"], ref["name"]), {}).get("spec", {})
        if target.get("replicas", 1) != floor:
            errors.append(f"hpa-replicas: {ref['name']} replicas {target.get('replicas', 1)}"
                          f" != HPA minReplicas {floor}")
    agg = by_name.get(("Deployment", "chiso-aggregation"), {}).get("spec", {})
    if agg.get("replicas", 1) != 1 or "chiso-aggregation" in autoscaled:
        errors.append("one-aggregation: chiso-aggregation must run exactly 1 replica, no HPA")
    if agg.get("strategy", {}).get("type") != "Recreate":
        errors.append("one-aggregation: chiso-aggregation needs strategy Recreate")
    for obj in objects:
        pod = obj.get("spec", {}).get("template", {}).get("spec")
        for c in (pod or {}).get("initContainers", []) + (pod or {}).get("containers", []):
            where = f"{obj['metadata']['name']}/{c['name']}"
            context = {**pod.get("securityContext", {}), **c.get("securityContext", {})}
            user = context.get("runAsUser")
            if user == 0 or (user is None and context.get("runAsNonRoot") is not True):
                errors.append(f"non-root: {where} may run as root")
            if not pinned(c.get("image", "")):
                errors.append(f"pinned-image: {where} image {c.get('image')!r}")
    return errors


VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?+]([^}]*))?\}")


def compose_errors(compose, documented):
    text = json.dumps(compose)
    used = {m[0] for m in VARIABLE.findall(text)}
    # ${VAR:-default} -> default, as on a fresh checkout.
    services = json.loads(VARIABLE.sub(lambda m: m.group(2) or "", text))["services"]
    errors = [f"documented-variable: ${{{v}}} not in .env.example" for v in sorted(used - documented)]
    for name, svc in services.items():
        if "image" in svc and not pinned(svc["image"]):
            errors.append(f"pinned-image: {name} image {svc['image']!r}")
        if str(svc.get("user", "")).split(":")[0] in ("0", "root"):
            errors.append(f"non-root: {name} runs as root")
        if name == "aggregation" and max(svc.get("scale", 1), svc.get("deploy", {}).get("replicas", 1)) != 1:
            errors.append("one-aggregation: compose must run exactly 1 aggregation container")
    return errors


def check(renderings, compose, documented):
    return [f"{name}: {e}" for name, objects in renderings.items() for e in k8s_errors(objects)] + [
        f"compose: {e}" for e in compose_errors(compose, documented)]


def self_test(renderings, compose, documented):
    def spec(objects, name):  # a Deployment's spec
        return next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == name)["spec"]

    def container(objects, name):
        return spec(objects, name)["template"]["spec"]["containers"][0]

    breaks = [  # (rule, how to break a copy of the first rendering `o` and of the compose file `c`)
        ("hpa-replicas", lambda o, c: spec(o, "chiso-gateway").update(replicas=7)),
        ("one-aggregation", lambda o, c: spec(o, "chiso-aggregation").update(replicas=2)),
        ("one-aggregation", lambda o, c: spec(o, "chiso-aggregation").update(strategy={"type": "RollingUpdate"})),
        ("one-aggregation", lambda o, c: c["services"]["aggregation"].update(deploy={"replicas": 2})),
        ("non-root", lambda o, c: container(o, "chiso-registry").update(securityContext={"runAsUser": 0})),
        ("non-root", lambda o, c: spec(o, "chiso-gateway")["template"]["spec"].update(securityContext={})),
        ("non-root", lambda o, c: c["services"]["postgres"].update(user="root")),
        ("pinned-image", lambda o, c: container(o, "chiso-submission").update(image="chiso:latest")),
        ("pinned-image", lambda o, c: container(o, "chiso-submission").update(image="localhost:5000/chiso")),
        ("pinned-image", lambda o, c: c["services"]["postgres"].update(image="postgres")),
        ("documented-variable", lambda o, c: c["services"]["postgres"].update(user="${CHISO_UNDOCUMENTED}")),
    ]
    failures = [f"self-test: the unbroken files fail: {e}" for e in check(renderings, compose, documented)]
    first = next(iter(renderings))
    for i, (rule, breaking) in enumerate(breaks, 1):
        objects, broken_compose = copy.deepcopy(renderings[first]), copy.deepcopy(compose)
        breaking(objects, broken_compose)
        if not any(f": {rule}: " in e for e in check({first: objects}, broken_compose, documented)):
            failures.append(f"self-test: rule {rule} accepted broken manifest #{i}")
    print(f"rules self-test: {len(breaks)} broken manifests, {len(failures)} failures")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rendered", nargs="+", type=Path, help="kustomize output, one file per kustomization")
    parser.add_argument("--compose", type=Path, required=True)
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    renderings = {f.stem: [o for o in yaml.safe_load_all(f.read_text()) if o] for f in args.rendered}
    compose = yaml.safe_load(args.compose.read_text())
    env_example = (args.compose.parent / ".env.example").read_text().splitlines()
    documented = {line.split("=")[0] for line in env_example if "=" in line and not line.startswith("#")}
    errors = (self_test if args.self_test else check)(renderings, compose, documented)
    for error in errors:
        print(f"ERROR {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
