# The native Keboola MCP server: a static binary on a distroless base, run as
# a non-root user. Used standalone (`serve --auth oauth`) or behind the
# Cloudflare Worker as a Container (`serve --auth proxy`, see
# docs/deploy-cloudflare.md).
#
#   docker build -t keboola-mcp .
#   docker run -p 8000:8000 -e KEBOOLA_MCP_PUBLIC_URL=https://mcp.example.com \
#     -e KEBOOLA_MCP_SECRET=... -v keboola-mcp-data:/data keboola-mcp

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
# Only the modules keboola-mcp builds from: `go mod download` would also
# fetch DuckDB's prebuilt libraries for every platform (hundreds of MB),
# which only the fake stack (cmd/keboola-dev-stack, cgo) uses.
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
# CGO off: the SQLite store is pure Go, so the binary needs no libc.
RUN --mount=type=cache,target=/go/pkg/mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/keboola-mcp ./cmd/keboola-mcp \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/keboola-mcp /usr/local/bin/keboola-mcp
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
ENV KEBOOLA_MCP_ADDR=0.0.0.0:8000 \
    KEBOOLA_MCP_STORE=sqlite:/data/keboola-mcp.db
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/keboola-mcp"]
CMD ["serve"]
