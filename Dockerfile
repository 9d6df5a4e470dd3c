# sheriff container image: build the TypeScript once, run the compiled CLI as an unprivileged user.
# Not built in CI here (no docker on the build machine); see docs/deploy.md.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY actions ./actions
COPY connectors ./connectors
RUN npm run build

FROM node:20-slim
# iptables + ipset for the iptables connector (it needs CAP_NET_ADMIN too: see docs/deploy.md); tini reaps children.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables ipset iproute2 tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY playbooks ./playbooks
RUN groupadd --system sheriff && useradd --system --gid sheriff --home-dir /app --shell /usr/sbin/nologin sheriff
USER sheriff
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/sheriff.js"]
CMD ["serve", "--config", "/etc/sheriff/sheriff.yaml", "--role", "all"]
