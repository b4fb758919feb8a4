# Multi-stage build: compile with the Rust toolchain, run on a small Debian base as a non-root user.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY src ./src
COPY migrations ./migrations
COPY assets ./assets
RUN cargo build --release --locked && strip target/release/atm-maint

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/data --shell /usr/sbin/nologin atm
COPY --from=build /src/target/release/atm-maint /usr/local/bin/atm-maint
# A persistent volume belongs here; without one, production mode refuses to start (on purpose).
ENV DATA_DIR=/var/data ATM_ENV=production LOG_FORMAT=json
USER atm
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD ["/usr/local/bin/atm-maint", "doctor"]
ENTRYPOINT ["/usr/local/bin/atm-maint"]
CMD ["serve", "--listen", "0.0.0.0:8000"]
