# depwatch container image: a build stage with the Rust toolchain, a small runtime stage with the
# binary, CA certificates and a non-root user. Not built in this repository's CI (no base-image
# registry there); see docs/container.md.

# --- build -------------------------------------------------------------------------------------
# Base images are pinned by digest (the multi-arch index), so a re-pushed tag cannot change the
# build; the tag is kept for readers. Refresh both together:
#   docker buildx imagetools inspect rust:1.95-trixie
# rust:1.95-trixie
FROM rust:1.95-trixie@sha256:f49565f188ee00bc2a18dd418183f2c5f23ef7d6e691890517ed341a598f67c3 AS build
WORKDIR /src
# The whole context minus .dockerignore: the crate embeds feeds/*.toml and templates/*.hbs.
COPY . .
RUN cargo build --release --locked --bin depwatch \
 && install -D -m 0755 target/release/depwatch /out/depwatch

# --- runtime -----------------------------------------------------------------------------------
# debian:trixie-slim
FROM debian:trixie-slim@sha256:a29215f6a35e51e22adffa17f89e9d2ef06214e64a2bad10d765c46aea49f11f AS runtime
# ca-certificates: the feeds, Slack, SMTP and GitHub are TLS and verified against the system store.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 depwatch \
 && useradd --system --uid 10001 --gid depwatch --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin depwatch \
 && mkdir -p /data /config \
 && chown depwatch:depwatch /data
COPY --from=build /out/depwatch /usr/local/bin/depwatch

# Everything depwatch writes lives on the /data volume, so the root filesystem can be read-only:
# the store (sync state, the monitor's memory, the notification outbox) and the drafts.
ENV DEPWATCH_STORE=/data/store.sqlite3 \
    HOME=/data \
    TMPDIR=/tmp
VOLUME ["/data"]
USER 10001:10001
WORKDIR /data

ENTRYPOINT ["depwatch"]
# The monitor: cycles on the config's [watch] schedule until stopped (SIGTERM from `docker stop`
# lets the current cycle finish, then exits 0). One cycle instead: `docker run ... run --config ...`.
CMD ["watch", "--config", "/config/depwatch.toml", "--out", "/data/out", "--log-format", "json"]
