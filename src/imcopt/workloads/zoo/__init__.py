"""The built-in network zoo (shapes from architecture hyper-parameters, no weights)."""
