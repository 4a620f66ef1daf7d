# syntax=docker/dockerfile:1
# The operator image: docker build -t aws-access-operator .
#
# Built on Debian 12 (glibc) and run on distroless cc-debian12, which carries
# exactly the glibc, libgcc and CA certificates the binary links and needs: no
# shell, no package manager. aws-lc-rs and ring (the TLS crypto of kube and the
# AWS SDK) and mimalloc (the allocator) compile their C and assembly with the
# builder's gcc; no cmake or musl cross toolchain is needed for linux/amd64 or
# linux/arm64.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# Cache mounts keep the registry and target/ between builds; the binary is
# copied out because the cache is not part of the image layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin aws-access-operator \
 && cp target/release/aws-access-operator /usr/local/bin/aws-access-operator

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /usr/local/bin/aws-access-operator /usr/local/bin/aws-access-operator
# 65532 is distroless' nonroot; the chart's runAsNonRoot check needs a numeric user.
USER 65532:65532
# /metrics, /healthz, /readyz (--metrics-address).
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/aws-access-operator"]
CMD ["run", "--metrics-address=0.0.0.0:8080"]
