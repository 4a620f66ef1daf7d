#!/usr/bin/env bash
# The operator image, built and run without Docker or a registry: on machines
# that cannot pull base images, the Dockerfile's final stage is assembled here
# from the release binary and the host's files, in the layout of
# gcr.io/distroless/cc-debian12:nonroot, and imported with `podman import`.
#
#   scripts/image.sh            build the image (--tag or OPERATOR_IMAGE, default
#                               localhost/aws-access-operator:dev); print its size and id
#   scripts/image.sh --run      build it, then run it with the chart's container
#                               settings against moto and kube-testserver on loopback
#                               until every object of examples/ is Ready
#   scripts/image.sh --layout   print the image's layout (key=value), build nothing;
#                               tests/integration/image.rs compares it with the Dockerfile
#
# Installs podman and runc with apt-get when they are missing (root only). The
# container runs under runc, on the host network, with ulimits within this
# machine's: crun (podman's default) fails on its cgroup layout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# The image's layout, in one place. The first five are the Dockerfile's final
# stage (COPY destination, USER, ENTRYPOINT, CMD, EXPOSE); the rest is what
# gcr.io/distroless/cc-debian12:nonroot brings: its CA bundle (the path
# openssl-probe, and so rustls-native-certs, reads first on Linux), its
# nonroot user's home as the working directory, and its environment.
binary=/usr/local/bin/aws-access-operator
user=65532:65532
entrypoint="[\"$binary\"]"
cmd='["run","--metrics-address=0.0.0.0:8080"]'
expose=8080
ca_bundle=/etc/ssl/certs/ca-certificates.crt
workdir=/home/nonroot
env_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

layout() {
  echo "binary=$binary"
  echo "user=$user"
  echo "entrypoint=$entrypoint"
  echo "cmd=$cmd"
  echo "expose=$expose"
  echo "ca_bundle=$ca_bundle"
  echo "workdir=$workdir"
  echo "env.PATH=$env_path"
  echo "env.SSL_CERT_FILE=$ca_bundle"
}

usage() { echo "usage: $0 [--run | --layout] [--tag IMAGE]" >&2; exit 2; }
mode=build
image=${OPERATOR_IMAGE:-localhost/aws-access-operator:dev}
while [ $# -gt 0 ]; do
  case "$1" in
    --run) mode=run ;;
    --layout) mode=layout ;;
    --tag) image=${2:-}; [ -n "$image" ] || usage; shift ;;
    *) usage ;;
  esac
  shift
done
if [ "$mode" = layout ]; then
  layout
  exit 0
fi
# REPOSITORY:TAG, which the chart's image.repository and image.tag name.
if ! [[ "$image" =~ ^[^@]+:[^/:@]+$ ]]; then
  echo "image: name the image REPOSITORY:TAG, not $image" >&2
  exit 2
fi

started=$(date +%s.%N)
elapsed() { python3 -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.2f}")' "$1"; }

# podman and runc from Debian's packages; crun, which podman recommends, is
# left out: it does not run here.
if ! command -v podman >/dev/null || ! command -v runc >/dev/null || [ ! -s "$ca_bundle" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "image: podman, runc or ca-certificates missing; as root: apt-get install --no-install-recommends podman runc ca-certificates" >&2
    exit 1
  fi
  echo "image: installing podman, runc and ca-certificates with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends podman runc ca-certificates >/dev/null
fi
podman=(podman --runtime runc)

if [ "$mode" = run ]; then
  scripts/setup.sh
fi
who=image
# free_port, the servers' start and seeding, shared with scripts/demo.sh;
# makes $work and $pids.
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
container=
cleanup() {
  local status=$?
  if [ -n "$container" ]; then
    if [ "$status" != 0 ]; then
      echo "image: the container's log (last 40 lines):" >&2
      "${podman[@]}" logs --tail 40 "$container" >&2 2>&1 || true
    fi
    "${podman[@]}" rm --force --time 10 "$container" >/dev/null 2>&1 || true
  fi
  stop_started
  if [ "$status" != 0 ]; then echo "image: FAILED (exit $status)" >&2; fi
}
trap cleanup EXIT
fail() { echo "image: $*" >&2; exit 1; }

# --- The image -------------------------------------------------------------

echo "image: building the release binary" >&2
cargo build --release --locked --bin aws-access-operator
operator_bin="$(cargo_target_dir)/release/aws-access-operator"

rootfs="$work/rootfs"
mkdir -p "$rootfs"
install -D -m 0755 "$operator_bin" "$rootfs$binary"
# The shared libraries it links, the dynamic loader among them, at the paths
# the loader found them (distroless cc carries the same glibc and libgcc).
ldd_out=$(ldd "$operator_bin")
if grep -q "not found" <<<"$ldd_out"; then fail "the binary links libraries this machine lacks:"$'\n'"$ldd_out"; fi
libraries=$(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$ldd_out")
[ -n "$libraries" ] || fail "ldd found no libraries (and no loader) in $operator_bin"
for library in $libraries; do
  mkdir -p "$rootfs$(dirname "$library")"
  cp --dereference --preserve=mode "$library" "$rootfs$library"
done
install -D -m 0644 "$ca_bundle" "$rootfs$ca_bundle"
# distroless' users and groups: root, nobody and nonroot (65532).
install -d -m 0755 "$rootfs/etc"
cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
EOF
cat >"$rootfs/etc/nsswitch.conf" <<'EOF'
passwd:         files
group:          files
hosts:          files dns
EOF
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group" "$rootfs/etc/nsswitch.conf"
# /tmp exists (for a tmpfs or emptyDir to be mounted on) but, with the chart's
# read-only root filesystem, is not writable unless one is.
install -d -m 1777 "$rootfs/tmp"
install -d -m 0700 -o 65532 -g 65532 "$rootfs$workdir"
install -d -m 0700 "$rootfs/root"
for shell in bin/sh bin/bash usr/bin/sh; do
  [ ! -e "$rootfs/$shell" ] || fail "the image has a shell, /$shell"
done

tar --create --file "$work/rootfs.tar" --directory "$rootfs" --numeric-owner --sort=name .
previous=$("${podman[@]}" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
"${podman[@]}" import --quiet \
  --change "USER $user" \
  --change "ENTRYPOINT $entrypoint" \
  --change "CMD $cmd" \
  --change "EXPOSE $expose" \
  --change "WORKDIR $workdir" \
  --change "ENV PATH=$env_path" \
  --change "ENV SSL_CERT_FILE=$ca_bundle" \
  --message "scripts/image.sh" \
  "$work/rootfs.tar" "$image" >/dev/null
image_id=$("${podman[@]}" image inspect --format '{{.Id}}' "$image")
# The image this tag named before, unless a container still uses it.
if [ -n "$previous" ] && [ "$previous" != "$image_id" ]; then
  "${podman[@]}" rmi "$previous" >/dev/null 2>&1 || true
fi
image_bytes=$("${podman[@]}" image inspect --format '{{.Size}}' "$image")
image_size=$(awk -v b="$image_bytes" 'BEGIN { printf "%.1f MB", b / 1000000 }')
echo "image: $image  id ${image_id:0:12}  size $image_size ($image_bytes bytes)"

if [ "$mode" = build ]; then
  exit 0
fi

# --- The image run as the chart runs it ------------------------------------

# kube-testserver alone: the operator in the container is the one under test.
echo "image: building kube-testserver" >&2
cargo build --quiet --locked -p kube-testserver --bin kube-testserver
testserver_bin="$(cargo_target_dir)/debug/kube-testserver"

release=aws-access-operator
namespace=aws-access-operator
pod_name=$release-image-check
start_moto
# The operator's ports on the host network: free ones, set through the chart.
metrics_port=$(free_port)
webhook_port=$(free_port)
chart_webhook "$release"
start_kube_testserver "$testserver_bin" \
  --service-endpoint "$namespace/$release-webhook:443=https://127.0.0.1:$webhook_port"
use_local_servers
wait_for_url "$AWS_ENDPOINT_URL/moto-api/"
seed_aws
install_crds
# The chart's namespace, which holds the leader-election Lease. kube-testserver
# has no RBAC: the chart's Roles have nothing to bind to here.
kubectl create namespace "$namespace" >/dev/null

# The Deployment as the chart renders it, pointed at this image, the free
# ports, moto, and the kubeconfig that stands in for the ServiceAccount token.
kubeconfig_in_container=/var/run/kubeconfig/config
cat >"$work/values.yaml" <<EOF
image:
  repository: "${image%:*}"
  tag: "${image##*:}"
metrics:
  port: $metrics_port
webhook:
  port: $webhook_port
awsRegion: us-east-1
env:
  - {name: AWS_ENDPOINT_URL, value: "$AWS_ENDPOINT_URL"}
  - {name: AWS_ACCESS_KEY_ID, value: demo}
  - {name: AWS_SECRET_ACCESS_KEY, value: demo}
  - {name: KUBECONFIG, value: "$kubeconfig_in_container"}
EOF
.tools/bin/helm template "$release" charts/aws-access-operator --namespace "$namespace" \
  --values "$work/values.yaml" --show-only templates/deployment.yaml >"$work/deployment.yaml"
# Mounted read-only as a Secret volume would be (mode 0644, group fsGroup); the
# directories around them are private to root.
mkdir -p "$work/kubeconfig-volume"
cp "$KUBECONFIG" "$work/kubeconfig-volume/config"
chgrp -R 65532 "$work/kubeconfig-volume" "$work/webhook-tls"
chmod 0755 "$work/kubeconfig-volume" "$work/webhook-tls"
chmod 0644 "$work/kubeconfig-volume/config" "$work/webhook-tls"/*

# The pod's container as `podman run` arguments: the security context, env,
# volume mounts, memory limit, image and args. Refuses what it cannot map.
mapfile -d '' run_args < <(.tools/moto/bin/python - "$work/deployment.yaml" "$pod_name" "$namespace" \
  "$work/webhook-tls" "$work/kubeconfig-volume" "$(dirname "$kubeconfig_in_container")" <<'EOF'
import sys, yaml
path, pod_name, namespace, webhook_tls, kubeconfig_dir, kubeconfig_mount = sys.argv[1:]
deployment = yaml.safe_load(open(path))
pod = deployment["spec"]["template"]["spec"]
[container] = pod["containers"]
out = []
def refuse(what):
    sys.exit(f"image: cannot map {what} to podman")

security = dict(pod.get("securityContext") or {})
security.update(container.get("securityContext") or {})
uid, gid = security.get("runAsUser"), security.get("runAsGroup")
if security.get("runAsNonRoot") and not uid:
    refuse("runAsNonRoot without a non-zero runAsUser")
if uid is not None:
    out += ["--user", f"{uid}:{gid if gid is not None else uid}"]
if "fsGroup" in security:
    out += ["--group-add", str(security["fsGroup"])]
if security.get("readOnlyRootFilesystem"):
    # Nothing writable but what the pod mounts: no tmpfs on /tmp, /run, /var/tmp.
    out += ["--read-only", "--read-only-tmpfs=false"]
if security.get("allowPrivilegeEscalation") is False:
    out += ["--security-opt", "no-new-privileges"]
capabilities = security.get("capabilities") or {}
for cap in capabilities.get("drop", []):
    out += ["--cap-drop", cap]
for cap in capabilities.get("add", []):
    out += ["--cap-add", cap]
seccomp = (security.get("seccompProfile") or {}).get("type", "RuntimeDefault")
if seccomp != "RuntimeDefault":  # podman's default profile
    refuse(f"seccompProfile {seccomp}")

field_values = {"metadata.name": pod_name, "metadata.namespace": namespace}
for env in container.get("env", []):
    if "value" in env:
        value = env["value"]
    else:
        field = env.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        if field not in field_values:
            refuse(f"env {env['name']} from {env.get('valueFrom')}")
        value = field_values[field]
    out += ["--env", f"{env['name']}={value}"]

secret_dirs = {v["name"]: v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
for mount in container.get("volumeMounts", []):
    if mount["name"] not in secret_dirs or not secret_dirs[mount["name"]].endswith("-webhook-tls"):
        refuse(f"volume {mount['name']}")
    out += ["--volume", f"{webhook_tls}:{mount['mountPath']}:ro"]
out += ["--volume", f"{kubeconfig_dir}:{kubeconfig_mount}:ro"]

memory = ((container.get("resources") or {}).get("limits") or {}).get("memory")
if memory:
    units = {"Ki": "k", "Mi": "m", "Gi": "g"}
    number, unit = memory[:-2], memory[-2:]
    if unit not in units or not number.isdigit():
        refuse(f"memory limit {memory}")
    out += ["--memory", number + units[unit]]
if container.get("command"):
    out += ["--entrypoint", yaml.safe_dump(container["command"], default_flow_style=True).strip()]
# SIGTERM, then this long before SIGKILL (the pod's default is 30s).
out += ["--stop-timeout", str(pod.get("terminationGracePeriodSeconds", 30))]

out.append(container["image"])
out += container.get("args", [])
sys.stdout.write("".join(arg + "\0" for arg in out))
EOF
)
[ "${#run_args[@]}" -gt 0 ] || fail "could not read the chart's Deployment ($work/deployment.yaml)"

container=$pod_name-$$
running() { [ "$("${podman[@]}" container inspect --format '{{.State.Running}}' "$container" 2>/dev/null)" = true ]; }
echo "image: running $image as the chart's Deployment does: ${run_args[*]}" >&2
run_started=$(date +%s.%N)
"${podman[@]}" run --detach --name "$container" --pull never --network host \
  --ulimit nofile=1024:20000 --ulimit nproc=1024:1024 \
  "${run_args[@]}" >/dev/null
readyz=http://127.0.0.1:$metrics_port/readyz
deadline=$((SECONDS + 60))
polls=0
until curl --silent --fail --output /dev/null --max-time 1 "$readyz"; do
  polls=$((polls + 1))
  if [ $((polls % 20)) = 0 ] && ! running; then fail "the container exited before $readyz answered 200"; fi
  [ "$SECONDS" -lt "$deadline" ] || fail "$readyz did not answer 200 within 60s"
  sleep 0.05
done
readyz_at=$(date +%s.%N)
process_started=$("${podman[@]}" container inspect --format '{{.State.StartedAt.UnixNano}}' "$container")
read -r start_time process_time < <(python3 -c 'import sys; at, run, process = map(float, sys.argv[1:]); print(f"{at - run:.2f} {at - process / 1e9:.2f}")' \
  "$readyz_at" "$run_started" "$process_started")
echo "image: /readyz answered 200 ${start_time}s after podman run (${process_time}s after the process started)" >&2

# What the kernel says of the container's process: the chart's security context in force.
pid=$("${podman[@]}" container inspect --format '{{.State.Pid}}' "$container")
proc_status=$(cat "/proc/$pid/status")
field() { awk -v key="$1:" '$1 == key { $1 = ""; print substr($0, 2) }' <<<"$proc_status"; }
root_mount=$(awk '$5 == "/" { print $6 }' "/proc/$pid/mountinfo")
uids=$(field Uid) gids=$(field Gid) capabilities=$(field CapEff) no_new_privs=$(field NoNewPrivs)
uid=${user%:*} gid=${user#*:}
[ "$uids" = "$uid $uid $uid $uid" ] || fail "the process runs as uids $uids (real, effective, saved, fs), not $uid"
[ "$gids" = "$gid $gid $gid $gid" ] || fail "the process runs as gids $gids (real, effective, saved, fs), not $gid"
[ "$capabilities" = 0000000000000000 ] || fail "the process has capabilities $capabilities"
[ "$no_new_privs" = 1 ] || fail "the process may gain privileges (NoNewPrivs $no_new_privs)"
[ "$(field Seccomp)" = 2 ] || fail "the process has no seccomp filter (RuntimeDefault)"
[[ ",$root_mount," == *,ro,* ]] || fail "the root filesystem is mounted $root_mount"
echo "image: the process runs as $user with no capabilities, no new privileges, a seccomp filter and / read-only ($root_mount)" >&2

# The webhook the container serves (failurePolicy Fail: the examples' apply
# goes through it), then examples/.
kubectl apply -f "$work/webhook-registration.yaml" >/dev/null
applied=$(kubectl apply -f examples/ -o name)
expected=$(grep -c '\.awsaccess\.dev/' <<<"$applied" || true)
[ "$expected" -gt 0 ] || fail "examples/ holds no awsaccess.dev objects"
# The kinds examples/ holds, as kubectl names them (iamuser.awsaccess.dev),
# so that a kind added to examples/ is waited for without a change here.
kinds=$(sed -n 's#^\([^/]*\.awsaccess\.dev\)/.*#\1#p' <<<"$applied" | sort -u | paste -sd, -)
echo "image: waiting for the $expected objects of examples/ to be Ready" >&2
ready_started=$(date +%s.%N)
deadline=$((SECONDS + 180))
# kubectl wait's timeout is for all the objects together, one after another:
# long enough for the last one to be checked, short enough to notice an exit.
until waited=$(kubectl wait --for=condition=Ready "$kinds" --all -A --timeout=20s 2>&1); do
  running || fail "the container exited while the examples were reconciled"
  if [ "$SECONDS" -ge "$deadline" ]; then
    kubectl get "$kinds" -A >&2 || true
    echo "$waited" >&2
    fail "not every object was Ready within 180s"
  fi
done
ready_time=$(elapsed "$ready_started")
# Each object and its Ready status, as "Kind/namespace/name status".
objects=$(kubectl get "$kinds" -A -o jsonpath='{range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}')
total=$(grep -c . <<<"$objects" || true)
ready=$(grep -c ' True$' <<<"$objects" || true)
# examples/' objects and those the operator makes for them (a PartnerAccess's
# CrossAccountRole): every one Ready.
if [ "$ready" != "$total" ] || [ "$total" -lt "$expected" ]; then
  echo "$objects" >&2
  fail "$ready of $total objects Ready; examples/ made $expected"
fi
running || fail "the container exited"
curl --silent --fail --output /dev/null --max-time 5 "http://127.0.0.1:$metrics_port/healthz" || fail "/healthz (the liveness probe) fails"

# As the kubelet stops it: SIGTERM to the operator, PID 1 of the container,
# SIGKILL after the grace period. It must exit by itself, with 0.
stop_started_at=$(date +%s.%N)
"${podman[@]}" stop "$container" >/dev/null
stop_time=$(elapsed "$stop_started_at")
exit_code=$("${podman[@]}" container inspect --format '{{.State.ExitCode}}' "$container")
[ "$exit_code" = 0 ] || fail "the operator exited with $exit_code on SIGTERM (137: killed after the grace period)"

echo "image: size $image_size; start ${start_time}s from podman run to /readyz 200 (${process_time}s from the process' start); examples Ready ${ready_time}s after kubectl apply; stopped ${stop_time}s after SIGTERM"
echo "image check: $ready objects Ready ($expected from examples/, $((ready - expected)) made by the operator; $(elapsed "$started")s in all)"
