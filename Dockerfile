# The etl task image: `etl-task`, the runtime inside every pod of etl's Argo workflows.
# Build:  scripts/image build                 (base image made from Debian's packages, no registry)
#    or:  docker build -t REGISTRY/etl-task:VERSION .                     (details: docs/image.md)
# No `# syntax=` line: BuildKit's built-in Dockerfile frontend is used, so building needs no
# registry. RUN --mount needs BuildKit: docker buildx, or the builder in docker 20.10 to 22.x.
# The install logic lives in scripts/image-install, which tests/task/test_image.py also runs without Docker.

# Any image with python3 (3.11 or newer) and its venv module: scripts/image base makes
# etl-base:bookworm from Debian's packages; with a registry, the default below works as it is
# (to pin by digest as well, pass --build-arg BASE_IMAGE=python:3.11.14-slim-bookworm@sha256:...).
ARG BASE_IMAGE=python:3.11.14-slim-bookworm

# --- build: resolve nothing, install exactly what uv.lock says for etl-task ----------------------
FROM ${BASE_IMAGE} AS build
# The CA bundle (optional secret `ca_bundle`, e.g. --secret id=ca_bundle,src=/etc/ssl/certs/ca-certificates.crt)
# lets pip and uv through a TLS-intercepting proxy. A secret is mounted for one RUN only and is
# never written to a layer.
WORKDIR /src
COPY scripts/image-uv-requirements.txt scripts/
RUN --mount=type=secret,id=ca_bundle \
    if [ -s /run/secrets/ca_bundle ]; then export PIP_CERT=/run/secrets/ca_bundle; fi \
 && python3 -m venv /opt/uv \
 && /opt/uv/bin/pip install --quiet --no-cache-dir --disable-pip-version-check \
      --require-hashes -r scripts/image-uv-requirements.txt
ENV PATH=/opt/uv/bin:${PATH} \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON=python3
COPY pyproject.toml uv.lock ./
COPY packages/ packages/
COPY scripts/image-install scripts/image-install
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=secret,id=ca_bundle \
    if [ -s /run/secrets/ca_bundle ]; then export SSL_CERT_FILE=/run/secrets/ca_bundle; fi \
 && scripts/image-install /opt/etl

# --- runtime: the venv, uv (for images that extend this one), a non-root user ---------------------
FROM ${BASE_IMAGE} AS runtime
ARG ETL_UID=10001
COPY --from=build /opt/uv/bin/uv /usr/local/bin/uv
RUN groupadd --system --gid "${ETL_UID}" etl \
 && useradd --system --uid "${ETL_UID}" --gid etl --create-home --home-dir /home/etl etl
# Owned by the task's user, so an image built FROM this one can `uv pip install` a dataset's
# package into the same venv without switching to root (docs/image.md).
COPY --from=build --chown=${ETL_UID}:${ETL_UID} /opt/etl /opt/etl
ENV PATH=/opt/etl/bin:${PATH} \
    VIRTUAL_ENV=/opt/etl \
    PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_CACHE_DIR=/tmp/uv-cache
# Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER ${ETL_UID}:${ETL_UID}
WORKDIR /home/etl
ENTRYPOINT ["etl-task"]
CMD ["--help"]
