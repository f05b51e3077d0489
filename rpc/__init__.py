"""The Ethereum JSON-RPC server: aiohttp over HTTP and WebSocket, the dispatcher, the `eth`,
`net`, `web3`, `txpool`, `debug`, `evm`/`anvil` (dev) and `ol` namespaces, filters and
subscriptions.

It reads committed state through `state/` and reaches the rest of the node only through the
`NodeAPI` protocol of `rpc/api.py`.
"""
