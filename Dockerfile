# sipresolver container image.
#
#   docker build -t sipresolver:dev .
#   docker run --rm --read-only -p 50051:50051 -p 9464:9464 sipresolver:dev
#   grpcurl -plaintext localhost:50051 list
#
# Stage 1 builds sipresolverd and the sipresolver CLI on Debian 12 with the
# Debian packages of scripts/install-deps (the one list of build packages, so
# the image and a developer machine build alike). Stage 2 is Debian 12 slim with
# only the shared libraries those binaries link (checked against `ldd` by
# scripts/check-deploy), CA certificates for TLS probes, and a non-root user.
# Nothing is written at run time: the image runs with a read-only root file
# system. Arguments after the image name replace CMD, e.g.
#   docker run sipresolver:dev --listen=[::]:50051 --metrics_listen=[::]:9464 \
#     --probe_allow=203.0.113.0/24
#
# A second image, the stage `powerdns` (docker build --target powerdns -t
# sipresolver-powerdns .; scripts/image --target powerdns): PowerDNS
# Authoritative 4.7 from Debian 12 with the remote backend, the DNS face's
# front (docs/dns-face.md), running beside sipresolverd in the same pod.
ARG BUILD_IMAGE=debian:12
ARG RUNTIME_IMAGE=debian:12-slim

# PowerDNS in front of sipresolverd's DNS face (--dns_face_socket). First, so
# that `--target powerdns` builds nothing else with builders that build every
# stage up to the target. Same user as sipresolverd (uid and gid 65532): the
# face's socket is mode 0660. Config: examples/dns-face/pdns.conf (Kubernetes
# mounts its own over /etc/powerdns); it listens on 5353 (non-root, no
# capabilities: the Service maps 53 to it) and writes only its control socket,
# to /run/pdns, so the root file system can be read-only (mount /run/pdns and
# /run/sipresolver as volumes). ENTRYPOINT examples/dns-face/pdns-after-face:
# PowerDNS 4.7 exits at start when the face's socket is not there yet, so it
# waits for the socket (up to 60 s) and then execs pdns_server (PID 1).
FROM ${RUNTIME_IMAGE} AS powerdns
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      pdns-backend-remote \
      pdns-server \
 && rm -rf /var/lib/apt/lists/* /etc/powerdns/pdns.d \
 && groupadd --system --gid 65532 sipresolver \
 && useradd --system --uid 65532 --gid 65532 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin sipresolver
COPY examples/dns-face/pdns.conf /etc/powerdns/pdns.conf
COPY examples/dns-face/pdns-after-face /usr/local/bin/pdns-after-face
USER 65532:65532
# 5353 DNS (UDP and TCP; local-port in pdns.conf).
EXPOSE 5353/udp 5353/tcp
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/pdns-after-face"]
CMD ["--config-dir=/etc/powerdns"]

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIPRESOLVER_BUILD_TESTS=OFF \
 && cmake --build /build --target sipresolverd sipresolver \
 && install -D -m 0755 -s /build/server/sipresolverd /out/usr/local/bin/sipresolverd \
 && install -D -m 0755 -s /build/client/sipresolver /out/usr/local/bin/sipresolver \
 && rm -rf /build

FROM ${RUNTIME_IMAGE} AS runtime
# Runtime libraries of sipresolverd and sipresolver (Debian 12 package names;
# scripts/check-deploy maps every `ldd` line of the built binaries to its
# package and fails if one is missing here). ca-certificates: the system trust
# store that TLS probes verify against (--probe_tls_verify).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libabsl20220623 \
      libc-ares2 \
      libc6 \
      libgcc-s1 \
      libgrpc++1.51 \
      libgrpc29 \
      libprometheus-cpp-core1.0 \
      libprotobuf32 \
      libre2-9 \
      libssl3 \
      libstdc++6 \
      zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 sipresolver \
 && useradd --system --uid 65532 --gid 65532 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin sipresolver
COPY --from=build /out/ /
USER 65532:65532
# 50051 gRPC (--listen), 9464 Prometheus /metrics (--metrics_listen).
# With TLS on --listen, Kubernetes probes use a plaintext health-only port
# (--health_listen, 50052 in the chart and manifests).
EXPOSE 50051 9464
# SIGTERM: health NOT_SERVING, --shutdown_drain_delay, streams end UNAVAILABLE
# ("reconnect"), calls drain within --shutdown_grace, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/sipresolverd"]
CMD ["--listen=[::]:50051", "--metrics_listen=[::]:9464"]
