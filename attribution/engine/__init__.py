"""The off-chain attribution engine: content directories, the suffix-array index of the
contributions a model cites, span tracing (`trace`, `overlap`) and the pure checks that
challenges of a span record use. Nothing here reads or writes chain state."""
