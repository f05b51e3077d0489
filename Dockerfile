# OpenLedger node image: the `openledger` command on a slim Python, run as a non-root user.
#
#   docker build -t openledger .
#   docker run --rm -p 127.0.0.1:8545:8545 openledger            # a dev chain
#   docker run --rm openledger run --datadir /data --genesis ...  # a validator or RPC node
#   docker compose up                                            # the 4-validator devnet

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY genesis genesis
COPY state state
COPY attribution attribution
COPY consensus consensus
COPY rpc rpc
COPY node node
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# /data (a node's chain) and /devnet (a compose devnet's shared configuration) belong to the node
# user; a named volume mounted there starts with that ownership.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin openledger \
    && mkdir /data /devnet && chown openledger:openledger /data /devnet
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER openledger
WORKDIR /home/openledger
VOLUME ["/data"]
EXPOSE 8545 30303
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8545/health', timeout=2)"]
ENTRYPOINT ["openledger"]
CMD ["dev", "--http.addr", "0.0.0.0", "--http.vhosts", "*", "--datadir", "/data"]
