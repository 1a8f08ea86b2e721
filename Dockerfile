# The taxi hub as a container image: `make image`, or
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse --short HEAD) -t taxi .
#
# The build stage compiles a static binary (CGO_ENABLED=0) with the
# Makefile's -ldflags; the final stage is distroless/static: CA certificates
# for rediss://, time zones, no shell, no package manager, running as the
# non-root user 65532. Kubernetes probes /healthz and /readyz, so the image
# has no HEALTHCHECK. docs/deploy.md describes the deployment.

ARG GO_IMAGE=golang:1.26-bookworm
ARG BASE_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The build context has no .git: the version and commit come from the
# build arguments.
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 GOFLAGS=-trimpath \
    make build BIN=/out/taxi VERSION="$VERSION" COMMIT="$COMMIT"

FROM ${BASE_IMAGE}
COPY --from=build /out/taxi /usr/local/bin/taxi
USER 65532:65532
ENV TAXI_ADDR=0.0.0.0:8080 \
    TAXI_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/taxi"]
CMD ["serve"]
