# syntax=docker/dockerfile:1
# convirza-mcp as a container: a static binary on a distroless base, run as
# a numeric non-root user, serving Streamable HTTP (and legacy SSE) on
# :8080. Set CONVIRZA_MCP_AUTH_TOKEN (required off loopback) and the
# Convirza credentials; for replicas, CONVIRZA_MCP_STORE (Redis),
# CONVIRZA_MCP_STORE_KEY and CONVIRZA_MCP_CONFIRMATION_KEY (see the README).

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=(devel)
ARG COMMIT=unknown
ARG DATE=unknown
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/convirza/convirza-mcp/internal/version.version=${VERSION} -X github.com/convirza/convirza-mcp/internal/version.commit=${COMMIT} -X github.com/convirza/convirza-mcp/internal/version.date=${DATE}" \
    -o /out/convirza-mcp ./cmd/convirza-mcp

FROM gcr.io/distroless/static-debian12:nonroot
LABEL io.modelcontextprotocol.server.name="io.github.convirza/convirza-mcp" \
      org.opencontainers.image.title="convirza-mcp" \
      org.opencontainers.image.description="MCP server for Convirza call tracking and Talkdesk record lists" \
      org.opencontainers.image.source="https://github.com/convirza/convirza-mcp" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/convirza-mcp /usr/local/bin/convirza-mcp
ENV CONVIRZA_MCP_TRANSPORT=http \
    CONVIRZA_MCP_ADDR=0.0.0.0:8080 \
    CONVIRZA_MCP_LOG_FORMAT=json \
    CONVIRZA_MCP_STATE_DIR=/var/lib/convirza-mcp
VOLUME ["/var/lib/convirza-mcp"]
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/convirza-mcp", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/convirza-mcp"]
CMD ["serve", "--transport", "http"]
