"""命令行 the `yiwang` command."""
