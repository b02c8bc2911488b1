#!/usr/bin/env python3
"""deploy_test.py — the Dockerfile and the Kubernetes manifests against the real service.

No Docker or cluster is needed (or used): the manifests must parse as YAML and hang together
(selectors, names, ports); the probes' paths must be answered 200 by the built binary and the
container port must be the server's default port; the Dockerfile's runtime stage must be
debian:12-slim, non-root, expose that port, start `vllm-mem serve` on it, and install exactly the
Debian packages of the binary's shared libraries that the slim image lacks (plus CA certificates).

Usage: deploy_test.py --binary build/vllm-mem --source .
Exits 77 (CTest: skipped) when python3-yaml is missing, unless CI is set.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import unittest
import urllib.request

try:
    import yaml
except ImportError:
    print("deploy test: python3-yaml is missing (scripts/install-deps.sh test installs it)", file=sys.stderr)
    sys.exit(1 if os.environ.get("CI") else 77)

ARGS = None
# Libraries debian:12-slim already has (apt itself depends on them).
SLIM_BASE = {"libc6", "libgcc-s1", "libstdc++6"}
# Runtime packages that are not libraries of the binary but are needed at run time.
RUNTIME_EXTRAS = {"ca-certificates"}  # HTTPS to the Hugging Face Hub (serve --hub)


def read(path):
    with open(os.path.join(ARGS.source, path), encoding="utf-8") as f:
        return f.read()


def manifests():
    docs = {}
    k8s = os.path.join(ARGS.source, "deploy", "k8s")
    for name in sorted(os.listdir(k8s)):
        if name.endswith((".yaml", ".yml")):
            for d in yaml.safe_load_all(read(os.path.join("deploy", "k8s", name))):
                if d is not None:
                    docs[d["kind"]] = d
    return docs


def serve_help():
    """`vllm-mem serve --help`: every server setting with its default."""
    return subprocess.run([ARGS.binary, "serve", "--help"], capture_output=True, text=True, check=True).stdout


def default_port():
    """The server's default port, as `vllm-mem serve --help` prints it."""
    out = serve_help()
    m = re.search(r"--port[^\n]*?\b(?:default|Default)[^\d]*(\d+)", out)
    assert m, "default port not found in `vllm-mem serve --help`:\n" + out
    return int(m.group(1))


def dockerfile_stages():
    """[(from line, [instructions])] with line continuations joined."""
    text = re.sub(r"\\\n", " ", read("Dockerfile"))
    stages = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word = line.split()[0].upper()
        if word == "FROM":
            stages.append((line, []))
        elif stages:
            stages[-1][1].append(line)
    return stages


class Manifests(unittest.TestCase):
    def setUp(self):
        self.docs = manifests()

    def test_kinds(self):
        self.assertEqual(set(self.docs), {"Deployment", "Service", "HorizontalPodAutoscaler", "Kustomization"})

    def test_deployment(self):
        d = self.docs["Deployment"]
        pod = d["spec"]["template"]
        self.assertEqual(d["spec"]["selector"]["matchLabels"].items() - pod["metadata"]["labels"].items(), set())
        (c,) = pod["spec"]["containers"]
        (port,) = c["ports"]
        self.assertEqual(port["containerPort"], default_port())
        for probe in ("readinessProbe", "livenessProbe"):
            self.assertIn(c[probe]["httpGet"]["port"], (port["name"], port["containerPort"]))
        self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/readyz")
        self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/healthz")
        res = c["resources"]
        for k in ("cpu", "memory"):
            self.assertIn(k, res["requests"])
            self.assertIn(k, res["limits"])
        # Non-root, read-only root file system, nothing to escalate to.
        self.assertTrue(pod["spec"]["securityContext"]["runAsNonRoot"])
        self.assertNotEqual(pod["spec"]["securityContext"]["runAsUser"], 0)
        self.assertTrue(c["securityContext"]["readOnlyRootFilesystem"])
        self.assertFalse(c["securityContext"]["allowPrivilegeEscalation"])
        # Longer than the server's drain of in-flight requests on SIGTERM (--shutdown-timeout).
        drain = int(re.search(r"--shutdown-timeout[^\n]*\(default (\d+)\)", serve_help()).group(1))
        self.assertGreater(pod["spec"]["terminationGracePeriodSeconds"], drain)

    def test_service_and_autoscaler_point_at_the_deployment(self):
        d, s, h = self.docs["Deployment"], self.docs["Service"], self.docs["HorizontalPodAutoscaler"]
        labels = d["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(s["spec"]["selector"].items() - labels.items(), set())
        (c,) = d["spec"]["template"]["spec"]["containers"]
        self.assertIn(s["spec"]["ports"][0]["targetPort"], [p["name"] for p in c["ports"]] + [p["containerPort"] for p in c["ports"]])
        self.assertEqual(h["spec"]["scaleTargetRef"]["kind"], "Deployment")
        self.assertEqual(h["spec"]["scaleTargetRef"]["name"], d["metadata"]["name"])
        self.assertLessEqual(h["spec"]["minReplicas"], h["spec"]["maxReplicas"])
        self.assertEqual(h["spec"]["metrics"][0]["resource"]["name"], "cpu")
        k = self.docs["Kustomization"]
        self.assertEqual(set(k["resources"]), {"deployment.yaml", "service.yaml", "hpa.yaml"})

    def test_probes_are_answered_by_the_binary(self):
        d = self.docs["Deployment"]
        (c,) = d["spec"]["template"]["spec"]["containers"]
        # The container's own flags (args after the image's entrypoint) must be accepted.
        server = subprocess.Popen([ARGS.binary, "serve", "--host", "127.0.0.1", "--port", "0"] + c.get("args", []),
                                  stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        try:
            base = None
            for line in server.stderr:
                m = re.search(r"serving on (http://127\.0\.0\.1:\d+)", line)
                if m:
                    base = m.group(1)
                    break
            self.assertIsNotNone(base, "vllm-mem serve did not start")
            for probe in ("readinessProbe", "livenessProbe"):
                with urllib.request.urlopen(base + c[probe]["httpGet"]["path"], timeout=10) as r:
                    self.assertEqual(r.status, 200)
        finally:
            server.terminate()
            server.communicate(timeout=30)  # drains the shutdown lines; the exit code follows
            self.assertEqual(server.returncode, 0)


class Dockerfile(unittest.TestCase):
    def setUp(self):
        self.stages = dockerfile_stages()

    def test_stages(self):
        self.assertEqual(len(self.stages), 2)
        self.assertRegex(self.stages[0][0], r"^FROM debian:12 AS build$")
        build = " ".join(self.stages[0][1])
        self.assertIn("scripts/install-deps.sh", build)
        self.assertIn("make build", build)
        self.assertRegex(self.stages[1][0], r"^FROM debian:12-slim\b")

    def test_runtime_stage(self):
        lines = self.stages[1][1]
        user = [l.split()[1] for l in lines if l.upper().startswith("USER ")]
        self.assertEqual(len(user), 1)
        self.assertNotIn(user[0].split(":")[0], ("0", "root"))
        self.assertEqual(user[0].split(":")[0], str(manifests()["Deployment"]["spec"]["template"]["spec"]["securityContext"]["runAsUser"]))
        self.assertIn(f"EXPOSE {default_port()}", lines)
        (entry,) = [l for l in lines if l.upper().startswith("ENTRYPOINT ")]
        import json
        argv = json.loads(entry.split(None, 1)[1])
        self.assertEqual(argv[:2], ["vllm-mem", "serve"])
        self.assertEqual(argv[argv.index("--port") + 1], str(default_port()))
        self.assertEqual(argv[argv.index("--host") + 1], "0.0.0.0")
        self.assertFalse([l for l in lines if l.upper().startswith("HEALTHCHECK")], "no shell tools for a HEALTHCHECK")

    def test_runtime_packages_are_the_binarys_libraries(self):
        run = " ".join(l for l in self.stages[1][1] if l.upper().startswith("RUN "))
        m = re.search(r"apt-get install ((?:-\S+\s+)*)([^&;]+)", run)
        self.assertIsNotNone(m)
        installed = {w for w in shlex.split(m.group(2)) if not w.startswith("-")}
        # The Debian packages of the libraries the binary links directly (readelf NEEDED).
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                            subprocess.run(["readelf", "-d", ARGS.binary], capture_output=True, text=True, check=True).stdout)
        paths = {}
        for line in subprocess.run(["ldd", ARGS.binary], capture_output=True, text=True, check=True).stdout.splitlines():
            parts = line.split("=>")
            if len(parts) == 2 and parts[1].split():
                paths[parts[0].strip()] = parts[1].split()[0]
        packages = set()
        for lib in needed:
            path = os.path.realpath(paths[lib])
            out = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True).stdout or \
                subprocess.run(["dpkg", "-S", paths[lib]], capture_output=True, text=True).stdout
            self.assertTrue(out, f"no Debian package owns {lib}")
            packages.add(out.split(":")[0])
        self.assertEqual(installed, (packages - SLIM_BASE) | RUNTIME_EXTRAS)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--source", required=True)
    ARGS, rest = p.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
