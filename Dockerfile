# Controller image: slim Python, non-root, with git, helm and kustomize for the
# Git sync. It mirrors the install the tests use (`pip install .`). helm and
# kustomize are built from Go modules in a build stage, like
# hack/build-control-plane.sh does for the tests.
FROM golang:1.25-bookworm AS tools
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
RUN go install -ldflags "-s -w" helm.sh/helm/v3/cmd/helm@v3.19.5 \
 && go install -ldflags "-s -w" sigs.k8s.io/kustomize/kustomize/v5@v5.8.1

FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 rollouts \
 && useradd --uid 10001 --gid 10001 --home-dir /tmp --no-create-home rollouts
COPY --from=tools /go/bin/helm /go/bin/kustomize /usr/local/bin/
WORKDIR /src
COPY pyproject.toml README.md ./
COPY rollouts ./rollouts
RUN pip install --no-cache-dir . && rm -rf /src
WORKDIR /tmp
USER 10001:10001
ENV HOME=/tmp PYTHONUNBUFFERED=1
EXPOSE 8080 8090
ENTRYPOINT ["rollouts"]
CMD ["controller", "--leader-elect"]
