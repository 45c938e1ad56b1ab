# omsgw as a container: the gateway, the fake cloud and load shards all run from this one image
# (the first argument chooses the part: `gateway`, `cloud`, `load`, ...). Used by deploy/kubernetes/.
# Build: docker build -t omsgw:0.1.0 .

# Build stage: the TypeScript compiler is a dev dependency, so compile here.
FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
# `npm ci` runs `prepare` (tsc), which needs the sources: install without scripts, copy, then build.
RUN npm ci --no-audit --no-fund --ignore-scripts
# Everything not excluded by .dockerignore (tests, node_modules, dist, results are).
COPY . .
RUN npm run build

# Runtime stage: production dependencies and the compiled output only.
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /opt/omsgw
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY scenarios ./scenarios
# The node image ships an unprivileged "node" user (uid 1000); nothing here needs root.
RUN mkdir -p /var/lib/omsgw /results && chown node:node /var/lib/omsgw /results
USER node
ENTRYPOINT ["node", "/opt/omsgw/dist/cli/omsgw.js"]
CMD ["--help"]
