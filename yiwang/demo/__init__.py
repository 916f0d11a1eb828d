"""演示数据 demo: deterministic synthetic datasets of a Hainan-like province for `yiwang demo`, tests and benchmarks.

Nothing here describes a real person: names, ID numbers, phones and addresses are drawn from our own word lists.
"""
