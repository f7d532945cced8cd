# syntax=docker/dockerfile:1
# The etl task image: `etl-task`, the runtime inside every pod of etl's Argo workflows.
# Build:  docker build -t REGISTRY/etl-task:VERSION .        (details: docs/image.md)
# The install logic lives in scripts/image-install, which tests/test_image.py runs without Docker.

# Pinned tag of the official image. To pin by digest as well, append @sha256:... as printed by
# `docker buildx imagetools inspect python:3.11.14-slim-bookworm`, or pass --build-arg PYTHON_IMAGE=...
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

# --- build: resolve nothing, install exactly what uv.lock says for etl-task ----------------------
FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON=/usr/local/bin/python3
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY packages/ packages/
COPY scripts/image-install scripts/image-install
RUN --mount=type=cache,target=/root/.cache/uv scripts/image-install /opt/etl

# --- runtime: the venv, uv (for images that extend this one), a non-root user ---------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG ETL_UID=10001
COPY --from=uv /uv /usr/local/bin/uv
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
