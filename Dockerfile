# Dockerfile — vllm-mem as a container: a Debian 12 build stage (the repository's own
# scripts/install-deps.sh and `make build`, so the image builds exactly as a fresh machine does)
# and a debian:12-slim runtime stage holding the binary (model database, GPU catalog, web pages
# and OpenAPI document are embedded in it) and the one shared library it needs beyond the base
# image, libcurl (used only by `serve --hub`), with CA certificates for the Hub over HTTPS.
#
#   docker build -t vllm-mem:0.1.0 .
#   docker run --rm -p 8000:8000 --read-only vllm-mem:0.1.0
#
# No HEALTHCHECK: the runtime image has no shell tools to run one; orchestrators probe
# GET /healthz (liveness) and GET /readyz (readiness) themselves (deploy/k8s/deployment.yaml).

FROM debian:12 AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
# build,test: `make build` configures CMake with the test suite, which needs GoogleTest.
RUN scripts/install-deps.sh build,test && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make build JOBS="$(nproc)" && strip build/vllm-mem && build/vllm-mem --version

FROM debian:12-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends libcurl4 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin vllm-mem
COPY --from=build /src/build/vllm-mem /usr/local/bin/vllm-mem
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["vllm-mem", "serve", "--host", "0.0.0.0", "--port", "8000"]
