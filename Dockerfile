# The injector's image: one image, two commands — the worker (default) and the gateway. Multi-stage: the build stage
# compiles TypeScript with the dev dependencies; the runtime stage holds production dependencies and dist/ only.
# Build:  docker build -t openclaw/injector:local .
# Worker: needs the Docker socket; run it with the socket's group (docs/operations.md, "The Docker socket").
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
COPY workflows/ workflows/
COPY activities/ activities/
COPY scripts/ scripts/
COPY bench/ bench/
# The benchmarks (part of the build) reuse the test helpers; they stay in this stage.
COPY test/support/ test/support/
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    OPENCLAW_DATA_DIR=/var/lib/openclaw \
    OPENCLAW_GATEWAY_HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /build/dist/ dist/
# uid/gid 1000 is the `node` user of the official image. The worker reaches the Docker socket through the socket's
# group, added at run time (compose: group_add ${DOCKER_GID}); the image itself grants nothing.
RUN mkdir -p /var/lib/openclaw && chown 1000:1000 /var/lib/openclaw
USER 1000:1000
LABEL org.opencontainers.image.title="openclaw injector" \
      org.opencontainers.image.description="Temporal worker and REST gateway of the OpenClaw Injector"
EXPOSE 7005 9464
CMD ["node", "dist/src/worker/main.js"]
