"""The pure domain: reading metrics, the rules, `decide()` and the `Decision` it returns.

Nothing here does I/O, reads a clock, configures logging or imports an SDK.
"""
