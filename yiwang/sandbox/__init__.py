"""赛道 and 数据可用不可见: scenario tracks, a private SQL sandbox with differential privacy, de-identified exports."""
